//! The async runtime every program that calls AWS runs on, with stacks sized for the SDK.
//!
//! The SDK's generated deserializers keep whole shapes on the stack. In a debug build the one
//! for a Security Hub finding's `Resources[].Details` alone takes a 6.3 MiB frame, and a
//! `GetFindings` page needs about 8 MiB; a release build needs far less. A thread's default
//! stack (8 MiB for a main thread, 2 MiB for tokio's workers and test threads) so overflows the
//! first time a page holds a finding with details, which aborts the process. Here the calling
//! thread and every worker get [`STACK_SIZE`]: address space only, the memory is used as it is
//! touched.

use std::future::Future;

/// The stack of the thread that runs a program's future and of every runtime worker.
pub const STACK_SIZE: usize = 64 << 20;

/// A multi-thread runtime whose workers have [`STACK_SIZE`] stacks, IO and time enabled.
pub fn builder() -> tokio::runtime::Builder {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.thread_stack_size(STACK_SIZE).enable_all();
    b
}

/// Runs `main()` to completion on a thread with a [`STACK_SIZE`] stack, on a runtime from
/// [`builder`]. A panic in it is resumed in the caller.
pub fn run<F, Fut>(main: F) -> std::io::Result<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    on_big_stack(builder(), main)
}

/// As [`run`], on a current-thread runtime: every task runs on that one thread. For a Lambda
/// function, which handles one invocation at a time on a fraction of a core, this spares the
/// wake-ups and thread switches of a multi-thread runtime (a third of the detect function's CPU
/// in its burst benchmark); its concurrent calls still overlap while they wait.
pub fn run_single<F, Fut>(main: F) -> std::io::Result<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    let mut b = tokio::runtime::Builder::new_current_thread();
    b.enable_all();
    on_big_stack(b, main)
}

fn on_big_stack<F, Fut>(
    mut runtime: tokio::runtime::Builder,
    main: F,
) -> std::io::Result<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    let thread = std::thread::Builder::new()
        .name("iamwatch-main".to_string())
        .stack_size(STACK_SIZE)
        .spawn(move || runtime.build().map(|rt| rt.block_on(main())))?;
    match thread.join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uses `kib` KiB of the stack at once and returns a value computed from all of it.
    #[inline(never)]
    fn deep(kib: usize) -> u64 {
        let mut frame = [0u8; 12 << 20];
        let n = (kib << 10).min(frame.len());
        for (i, b) in frame[..n].iter_mut().enumerate() {
            *b = i as u8;
        }
        std::hint::black_box(&mut frame);
        frame[..n].iter().map(|&b| u64::from(b)).sum()
    }

    #[test]
    fn the_main_future_and_the_workers_have_room_for_a_12_mib_frame() {
        // 12 MiB does not fit a main thread's 8 MiB or a test thread's 2 MiB.
        let expected: u64 = (0..12usize << 20).map(|i| u64::from(i as u8)).sum();
        let (on_main, on_worker) = run(|| async {
            let on_main = deep(12 << 10);
            let on_worker = tokio::spawn(async { deep(12 << 10) }).await.unwrap();
            (on_main, on_worker)
        })
        .unwrap();
        assert_eq!(on_main, expected);
        assert_eq!(on_worker, expected);
    }

    #[test]
    fn the_single_thread_runtime_has_the_same_room_and_runs_spawned_tasks() {
        let expected: u64 = (0..12usize << 20).map(|i| u64::from(i as u8)).sum();
        let (on_main, spawned, main_thread) = run_single(|| async {
            let on_main = deep(12 << 10);
            let spawned = tokio::spawn(async { (deep(12 << 10), std::thread::current().id()) })
                .await
                .unwrap();
            (on_main, spawned, std::thread::current().id())
        })
        .unwrap();
        assert_eq!(on_main, expected);
        assert_eq!(
            spawned,
            (expected, main_thread),
            "spawned tasks run on the main thread"
        );
    }

    #[test]
    fn a_panic_in_the_main_future_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| run(|| async { panic!("boom") }));
        let msg = caught.unwrap_err();
        assert_eq!(msg.downcast_ref::<&str>(), Some(&"boom"));
    }
}
