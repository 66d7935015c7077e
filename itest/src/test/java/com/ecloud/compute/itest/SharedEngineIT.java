package com.ecloud.compute.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.OpenSsh;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;

/**
 * Two platforms on one Docker engine: each labels its containers with its own id (kept in its data directory),
 * so the other's reconciler, which removes engine containers its store does not know, leaves them alone.
 */
class SharedEngineIT {

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension()
            .config("com.ecloud.compute.ssh", Map.of("port", Integer.toString(OpenSsh.freePort())))
            .config("com.ecloud.compute.ssh.operator", Map.of("port", Integer.toString(OpenSsh.freePort())));

    @Test
    void anotherPlatformOnTheSameEngineLeavesOurContainersAlone() throws Exception {
        Api alice = platform.get().newUserApi("shared-a");
        String id = Fixtures.runningBusybox(alice, "mine");
        String platformId = java.nio.file.Files.readString(platform.get().dataDir().resolve("state/platform-id")).trim();
        assertEquals(platformId, Docker.inspect(Docker.name(id), "{{index .Config.Labels \"ecloud.platform\"}}").orElseThrow());

        try (PlatformProcess other = PlatformProcess.prepare("SharedEngineIT-other", Map.of(
                "com.ecloud.compute.ssh", Map.of("port", Integer.toString(OpenSsh.freePort())),
                "com.ecloud.compute.ssh.operator", Map.of("port", Integer.toString(OpenSsh.freePort())))).start()) {
            // the other platform reconciles every 5 s and removes what it does not know after 5 s (FAST_PLATFORM):
            // three rounds and more
            Thread.sleep(16_000);
            assertFalse(other.log().contains("removing container " + id), other.logTail(40));
        }
        assertTrue(Docker.exists(Docker.name(id)), "the engine container is still there");
        assertEquals("running", Fixtures.get(alice, id).path("status").asText());
    }
}
