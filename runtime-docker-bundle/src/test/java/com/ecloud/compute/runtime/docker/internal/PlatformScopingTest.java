package com.ecloud.compute.runtime.docker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerSpec;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeState;
import com.ecloud.compute.runtime.contract.ContainerRuntimeContract;

/**
 * Two platforms on one engine: each sees, inspects and removes only its own containers, so that one never takes
 * the other's for an orphan.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PlatformScopingTest {

    private static final Path STORAGE_A = Path.of("target", "scoping-a-volumes").toAbsolutePath();
    private static final Path STORAGE_B = Path.of("target", "scoping-b-volumes").toAbsolutePath();

    private DockerRuntime platformA;
    private DockerRuntime platformB;
    private final String id = TestIds.next();

    @BeforeEach
    void startRuntimes() {
        TestEngine.require();
        platformA = new DockerRuntime(TestEngine.config("scoping", "unix://" + TestEngine.SOCKET, STORAGE_A),
                STORAGE_A.getParent(), "platform-a");
        platformB = new DockerRuntime(TestEngine.config("scoping", "unix://" + TestEngine.SOCKET, STORAGE_B),
                STORAGE_B.getParent(), "platform-b");
    }

    @AfterEach
    void cleanUp() {
        if (platformA != null) {
            platformA.removeStorage(id);
            platformA.close();
        }
        if (platformB != null) platformB.close();
    }

    @Test
    void anotherPlatformsContainerIsInvisibleAndUntouchable() throws Exception {
        platformA.create(new ContainerSpec(id, "owner-1", TestEngine.SMALL_IMAGE, Arch.AMD64, 500, 64, 1, List.of(),
                List.of(), Map.of(ContainerRuntimeContract.TEST_LABEL, "true")));
        platformA.start(id);
        assertTrue(platformA.list().stream().map(RuntimeState::containerId).anyMatch(id::equals), "A sees its own");
        assertEquals("platform-a", TestEngine.docker("inspect", "--format",
                "{{index .Config.Labels \"ecloud.platform\"}}", "ecloud-" + id).trim());

        assertFalse(platformB.list().stream().map(RuntimeState::containerId).anyMatch(id::equals), "B must not see it");
        assertThrows(RuntimeNotFoundException.class, () -> platformB.inspect(id));
        assertThrows(RuntimeNotFoundException.class, () -> platformB.usage(id));
        platformB.remove(id); // as B's reconciler would for an orphan: nothing of B's is there
        platformB.removeStorage(id);
        assertEquals("true", TestEngine.docker("inspect", "--format", "{{.State.Running}}", "ecloud-" + id).trim(),
                "A's container still runs");
        assertTrue(platformA.inspect(id).running());
    }
}
