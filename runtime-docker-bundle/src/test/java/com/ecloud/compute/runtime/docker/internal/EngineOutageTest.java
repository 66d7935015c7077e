package com.ecloud.compute.runtime.docker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerSpec;
import com.ecloud.compute.api.runtime.Fingerprint;
import com.ecloud.compute.api.runtime.Health;
import com.ecloud.compute.api.runtime.RuntimeEvent;
import com.ecloud.compute.api.runtime.RuntimeUnavailableException;
import com.ecloud.compute.runtime.contract.ContainerRuntimeContract;

/** Health and the event stream through an engine outage (a proxy socket taken down and brought back). */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EngineOutageTest {

    private static final Path STORAGE = Path.of("target", "outage-volumes").toAbsolutePath();

    @Test
    void anEngineNeverReachedIsUndetectedAndOperationsAreUnavailable() {
        try (DockerRuntime runtime = new DockerRuntime(
                TestEngine.config("nowhere", "unix:///nonexistent/docker.sock", STORAGE), STORAGE.getParent())) {
            Fingerprint fingerprint = runtime.fingerprint();
            assertEquals(Health.UNDETECTED, fingerprint.health());
            assertTrue(fingerprint.reason().contains("cannot be reached"), fingerprint.reason());
            assertTrue(fingerprint.arches().isEmpty());
            assertThrows(RuntimeUnavailableException.class, () -> runtime.inspect("abcd1234"));
            assertThrows(RuntimeUnavailableException.class, runtime::list);
        }
    }

    @Test
    void healthAndEventsFollowTheEngineThroughAnOutage() throws Exception {
        TestEngine.require();
        Path socket = Files.createDirectories(Path.of("target")).toAbsolutePath().resolve("engine-proxy.sock");
        UnixSocketProxy proxy = new UnixSocketProxy(socket, Path.of(TestEngine.SOCKET));
        proxy.start();
        String id = TestIds.next();
        try (proxy; DockerRuntime runtime = new DockerRuntime(
                TestEngine.config("outage", "unix://" + socket, STORAGE), STORAGE.getParent())) {
            await(() -> runtime.fingerprint().healthy(), "healthy at first");
            List<RuntimeEvent> events = new CopyOnWriteArrayList<>();
            runtime.events(events::add);
            Thread.sleep(500);

            proxy.stop();
            await(() -> runtime.fingerprint().health() == Health.UNHEALTHY, "unhealthy while the engine is gone");
            String reason = runtime.fingerprint().reason();
            assertNotNull(reason);
            assertTrue(reason.contains("cannot be reached"), reason);
            assertTrue(runtime.fingerprint().arches().contains(Arch.AMD64), "the arches known stay");

            proxy.start();
            await(() -> events.stream().anyMatch(e -> e.kind() == RuntimeEvent.Kind.RESYNC), "RESYNC after reconnecting");
            await(() -> runtime.fingerprint().healthy(), "healthy again");

            runtime.create(new ContainerSpec(id, "owner-1", TestEngine.SMALL_IMAGE, Arch.AMD64, 200, 64, 1, List.of(),
                    List.of(), Map.of(ContainerRuntimeContract.TEST_LABEL, "true")));
            runtime.start(id);
            await(() -> events.stream().anyMatch(e -> id.equals(e.containerId()) && e.kind() == RuntimeEvent.Kind.STARTED),
                    "events flow again after the reconnect: " + events);
        } finally {
            try (DockerRuntime cleanup = new DockerRuntime(
                    TestEngine.config("cleanup", "unix://" + TestEngine.SOCKET, STORAGE), STORAGE.getParent())) {
                cleanup.remove(id);
                cleanup.removeStorage(id);
            }
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not " + what);
            Thread.sleep(200);
        }
    }
}
