import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { POLICY_FILE_IN_PACKAGE } from './names';

/**
 * The folder of a Rust function as `scripts/package-lambdas.sh` leaves it:
 * `<assetDir>/<package>/bootstrap`. Fails with the command to run when it is not there.
 */
export function packageDir(assetDir: string, pkg: string): string {
  const dir = path.join(assetDir, pkg);
  const bootstrap = path.join(dir, 'bootstrap');
  if (!fs.existsSync(bootstrap)) {
    throw new Error(
      `${bootstrap} not found: build the functions first with scripts/package-lambdas.sh ` +
        '(or point context key iamwatch:lambdaAssetDir at the folder holding <package>/bootstrap)',
    );
  }
  return dir;
}

/** Code of a function that is just the packaged `bootstrap`. */
export function functionCode(assetDir: string, pkg: string): lambda.Code {
  return lambda.Code.fromAsset(packageDir(assetDir, pkg));
}

/**
 * Code of the detect function: its `bootstrap` plus the policy file as `policy.toml` beside it
 * (`/var/task/policy.toml` at run time). Both are copied into a staging folder under
 * `stagingRoot` (the cloud assembly's folder) whose name is the hash of their contents, so the
 * asset changes exactly when the binary or the policy changes.
 */
export function functionCodeWithPolicy(assetDir: string, pkg: string, policyFile: string, stagingRoot: string): lambda.Code {
  const dir = packageDir(assetDir, pkg);
  const bootstrap = fs.readFileSync(path.join(dir, 'bootstrap'));
  const policy = fs.readFileSync(policyFile);
  const hash = crypto.createHash('sha256').update(bootstrap).update('\0').update(policy).digest('hex').slice(0, 16);
  const staging = path.join(stagingRoot, `.staging-${pkg}-${hash}`);
  if (!fs.existsSync(path.join(staging, 'policy.toml'))) {
    const partial = `${staging}.${process.pid}.tmp`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.mkdirSync(partial, { recursive: true });
    fs.writeFileSync(path.join(partial, 'bootstrap'), bootstrap, { mode: 0o755 });
    fs.writeFileSync(path.join(partial, path.basename(POLICY_FILE_IN_PACKAGE)), policy, { mode: 0o644 });
    fs.rmSync(staging, { recursive: true, force: true });
    fs.renameSync(partial, staging);
  }
  return lambda.Code.fromAsset(staging);
}
