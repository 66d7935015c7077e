package com.ecloud.compute.runtime.lxd.internal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.runtime.contract.ContainerRuntimeContract;

/**
 * The runtime contract on this host's LXD (scripts/lxd-host.sh) with the builtin images imported as LXD images,
 * run as a plain JUnit test: the component is constructed directly with a configuration whose instance prefix
 * ({@value TestLxd#TEST_PREFIX}) marks everything the suite makes.
 */
class LxdRuntimeContractTest extends ContainerRuntimeContract {

    /** An LXD image alias of the test's own, with a command (see {@link #imageWithCommand}). */
    static final String COMMAND_IMAGE = "ecloud-test/busybox-with-command:amd64";

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

    /**
     * On LXD an image's own command is its init: BusyBox with an init that prints {@code ecloud-cmd-ran} to its
     * stdout (the console) and then idles. Made once as an LXD image (published from an instance whose init was
     * replaced through the files API) and kept under the alias {@value #COMMAND_IMAGE}.
     */
    @Override
    protected Optional<String> imageWithCommand(Arch arch) {
        if (arch != Arch.AMD64) return Optional.empty();
        try {
            client.get("/1.0/images/aliases/" + LxdClient.segment(COMMAND_IMAGE));
            return Optional.of(COMMAND_IMAGE);
        } catch (RuntimeNotFoundException missing) {
            // made below
        }
        String source = TestLxd.TEST_PREFIX + "cmd-image-source";
        try {
            client.call("POST", "/1.0/instances", Map.of("name", source, "type", "container",
                    "source", Map.of("type", "image", "alias", smallImage(Arch.AMD64))));
            client.pushFile(source, "/sbin/init", ("#!/bin/sh\necho ecloud-cmd-ran\ntrap 'exit 0' PWR TERM INT HUP\n"
                    + "while :; do sleep 2147483647 & wait $!; done\n").getBytes(StandardCharsets.UTF_8), 0755);
            client.call("POST", "/1.0/images", Map.of("source", Map.of("type", "instance", "name", source),
                    "aliases", List.of(Map.of("name", COMMAND_IMAGE)),
                    "properties", Map.of("ecloud.architecture", "amd64", "description", "BusyBox whose init prints ecloud-cmd-ran")));
            return Optional.of(COMMAND_IMAGE);
        } finally {
            try {
                client.call("DELETE", "/1.0/instances/" + source, null);
            } catch (RuntimeNotFoundException gone) {
                // never made
            }
        }
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
