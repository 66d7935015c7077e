package com.ecloud.compute.runtime.lxd.internal;

import java.nio.file.Path;

/**
 * The whole runtime contract against LXD as a remote server: every request over HTTPS with a client certificate,
 * every exec and the event stream a WebSocket over TLS, the console read over HTTPS (this machine's daemon on
 * {@value TestLxdRemote#URL}, its unix socket unused by the runtime under test).
 */
class LxdRemoteRuntimeContractTest extends LxdRuntimeContractTest {

    private TestLxdRemote.Identity identity;

    @Override
    protected LxdRuntime.Config runtimeConfig() {
        if (identity == null) {
            try (LxdClient local = TestLxd.client()) {
                identity = TestLxdRemote.identity(local, Path.of("target", "lxd-remote"), "contract", true);
            } catch (Exception e) {
                throw new IllegalStateException("cannot set up a client certificate for LXD over HTTPS", e);
            }
        }
        return TestLxdRemote.config("contract-remote", identity);
    }

    /** LXD 5.0's lifecycle events have no OOM, and a remote host's cgroups are out of reach. */
    @Override
    protected boolean eventsReportOom() {
        return false;
    }

    @Override
    protected void afterSuite() {
        try (LxdClient local = TestLxd.client()) {
            TestLxdRemote.untrust(local, identity);
        }
        super.afterSuite();
    }
}
