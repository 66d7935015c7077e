package com.ecloud.compute.runtime.lxd.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.runtime.contract.ContainerRuntimeContract;

/**
 * The runtime contract on this host's LXD (scripts/lxd-host.sh) with the builtin images imported as LXD images,
 * run as a plain JUnit test: the component is constructed directly with a configuration whose instance prefix
 * ({@value TestLxd#TEST_PREFIX}) marks everything the suite makes.
 */
class LxdRuntimeContractTest extends ContainerRuntimeContract {

    private LxdClient client;

    @Override
    protected ContainerRuntime createRuntime() {
        requireEngine(Files.exists(Path.of(TestLxd.SOCKET)), "LXD (" + TestLxd.SOCKET + ", scripts/lxd-host.sh)");
        if (client == null) client = TestLxd.client();
        boolean images;
        try {
            for (Arch arch : requiredArches()) {
                client.get("/1.0/images/aliases/" + LxdClient.segment(smallImage(arch)));
                client.get("/1.0/images/aliases/" + LxdClient.segment(distroImage(arch)));
            }
            images = true;
        } catch (RuntimeException e) {
            images = false;
        }
        requireEngine(images, "LXD with the builtin images (scripts/lxd-host.sh)");
        return new LxdRuntime(runtimeConfig());
    }

    /** The runtime under test: the local daemon over its unix socket. */
    protected LxdRuntime.Config runtimeConfig() {
        return TestLxd.config("contract-test", TestLxd.SOCKET);
    }

    @Override
    protected void disposeRuntime(ContainerRuntime runtime) {
        ((LxdRuntime) runtime).close();
    }

    @Override
    protected void removeLeftovers(ContainerRuntime runtime) {
        TestLxd.sweep(client);
    }

    @Override
    protected void afterSuite() {
        if (client != null) client.close();
    }

    @Override
    protected String smallImage(Arch arch) {
        return "ecloud/busybox:latest-" + arch.id();
    }

    @Override
    protected String distroImage(Arch arch) {
        return "ecloud/debian:bookworm-" + arch.id();
    }

    /** The console is one terminal stream. */
    @Override
    protected boolean logsTellStderrApart() {
        return false;
    }

    /** LXD 5.0's forkproxy closes both directions on a half-close. */
    @Override
    protected boolean exposePassesHalfClose() {
        return false;
    }

    /** btrfs qgroups: EDQUOT. */
    @Override
    protected String storageFullMessage() {
        return "Disk quota exceeded";
    }

    /** One custom volume per mount path. */
    @Override
    protected boolean storageCapCoversAllMountPathsTogether() {
        return false;
    }

    @Override
    protected Set<Arch> requiredArches() {
        Set<Arch> arches = EnumSet.of(Arch.AMD64);
        if (Boolean.parseBoolean(System.getenv(REQUIRE_ENGINES))
                || Files.exists(ArchDetection.BINFMT_MISC.resolve("qemu-aarch64"))) {
            arches.add(Arch.ARM64);
        }
        return arches;
    }
}
