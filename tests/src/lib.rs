//! End-to-end test support: moto server, fault-injecting proxy, HTTP test servers.
