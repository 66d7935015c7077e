package com.ecloud.compute.runtime.docker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerSpec;
import com.ecloud.compute.api.runtime.RuntimeRejectedException;
import com.ecloud.compute.runtime.contract.ContainerRuntimeContract;

/** The loop-file volumes on the host: remounting after a reboot, mount options, no way out through a link. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LoopStorageTest {

    private static final Path STORAGE = Path.of("target", "loop-volumes").toAbsolutePath();

    private DockerRuntime runtime;
    private final String id = TestIds.next();

    @BeforeEach
    void startRuntime() {
        TestEngine.require();
        runtime = new DockerRuntime(TestEngine.config("loop", "unix://" + TestEngine.SOCKET, STORAGE), STORAGE.getParent());
    }

    @AfterEach
    void removeContainer() {
        if (runtime == null) return;
        runtime.remove(id);
        runtime.removeStorage(id);
        assertFalse(Files.exists(STORAGE.resolve(id)), "removeStorage deletes the image and its mount point");
        runtime.close();
    }

    @Test
    void theVolumeIsMountedAgainOnStartAfterAReboot() throws Exception {
        runtime.create(spec(List.of("/var/data")));
        runtime.start(id);
        assertEquals(0, TestEngine.exec(runtime, id, "sh", "-c", "echo kept > /var/data/f").exitCode());
        runtime.stop(id, Duration.ofSeconds(5));

        Path mountPoint = STORAGE.resolve(id).resolve("mnt");
        HostCommand.run(List.of("umount", mountPoint.toString()), 30); // what a reboot does to it
        assertFalse(Files.exists(mountPoint.resolve("var/data")), "unmounted: the bind source is gone");

        runtime.start(id);
        assertEquals("kept\n", TestEngine.exec(runtime, id, "cat", "/var/data/f").stdout());
        String options = TestEngine.exec(runtime, id, "sh", "-c", "grep ' /var/data ' /proc/mounts").stdout();
        assertTrue(options.contains("nosuid") && options.contains("nodev"), options);
    }

    @Test
    void aSymbolicLinkInTheVolumeNeverBecomesABindSource() throws Exception {
        runtime.create(spec(List.of("/srv")));
        runtime.start(id);
        // the owner plants a link to the host's root where a later mount path will be
        assertEquals(0, TestEngine.exec(runtime, id, "ln", "-s", "/", "/srv/escape").exitCode());
        runtime.remove(id);

        RuntimeRejectedException rejected = assertThrows(RuntimeRejectedException.class,
                () -> runtime.create(spec(List.of("/srv", "/srv/escape"))));
        assertTrue(rejected.getMessage().contains("srv/escape"), rejected.getMessage());
        runtime.create(spec(List.of("/srv"))); // without it, the volume is fine
    }

    @Test
    void aLargerStorageGbGrowsTheVolume() throws Exception {
        runtime.create(spec(List.of("/var/data")));
        long before = Files.getFileStore(STORAGE.resolve(id).resolve("mnt")).getTotalSpace();
        runtime.remove(id);
        runtime.create(new ContainerSpec(id, "owner-1", TestEngine.SMALL_IMAGE, Arch.AMD64, 200, 64, 2,
                List.of("/var/data"), List.of(), Map.of(ContainerRuntimeContract.TEST_LABEL, "true")));
        long after = Files.getFileStore(STORAGE.resolve(id).resolve("mnt")).getTotalSpace();
        assertTrue(after > before + 900L * 1024 * 1024, before + " -> " + after);
    }

    private ContainerSpec spec(List<String> mountPaths) {
        return new ContainerSpec(id, "owner-1", TestEngine.SMALL_IMAGE, Arch.AMD64, 200, 64, 1, mountPaths, List.of(),
                Map.of(ContainerRuntimeContract.TEST_LABEL, "true"));
    }
}
