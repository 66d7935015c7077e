package com.ecloud.compute.core.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.Fingerprint;
import com.ecloud.compute.api.runtime.Health;
import com.ecloud.compute.api.store.ContainerStore;

import jakarta.ws.rs.core.Response;

class ReadinessTest {

    private final Readiness readiness = new Readiness();
    private final HealthResource health = new HealthResource(readiness);

    /** A store whose only use here is to exist. */
    private static ContainerStore store() {
        return (ContainerStore) Proxy.newProxyInstance(ReadinessTest.class.getClassLoader(),
                new Class<?>[] { ContainerStore.class }, (proxy, method, args) -> {
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    private static ContainerRuntime runtime(Supplier<Fingerprint> fingerprint) {
        return (ContainerRuntime) Proxy.newProxyInstance(ReadinessTest.class.getClassLoader(),
                new Class<?>[] { ContainerRuntime.class }, (proxy, method, args) -> switch (method.getName()) {
                    case "fingerprint" -> fingerprint.get();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static Fingerprint fingerprint(Health health) {
        return new Fingerprint("docker", "localhost", Set.of(Arch.values()[0]), 2, 4096, health,
                health == Health.HEALTHY ? null : "engine down");
    }

    @Test
    void livenessIsAlwaysOk() {
        Response live = health.live();
        assertEquals(200, live.getStatus());
        assertEquals(Map.of("status", "ok"), live.getEntity());
        assertTrue(live.getHeaderString("Cache-Control").contains("no-store"));
    }

    @Test
    void notReadyWithoutStoreOrRuntime() {
        Readiness.Report report = readiness.check();
        assertFalse(report.ready());
        assertEquals(Map.of("store", "not available", "lifecycle", "not configured yet", "websockets",
                "not configured yet", "runtimes", "none registered"), report.checks());
        Response ready = health.ready();
        assertEquals(503, ready.getStatus());
        assertEquals("not ready", ((Map<?, ?>) ready.getEntity()).get("status"));
    }

    @Test
    void readyWithAStoreAndOneHealthyRuntime() {
        ContainerStore store = store();
        readiness.bindStore(store);
        readiness.bindRuntime(runtime(() -> fingerprint(Health.UNHEALTHY)));
        assertFalse(readiness.check().ready());
        assertEquals("0 of 1 healthy", readiness.check().checks().get("runtimes"));

        ContainerRuntime healthy = runtime(() -> fingerprint(Health.HEALTHY));
        readiness.bindRuntime(healthy);
        assertFalse(readiness.check().ready(), "the lifecycle waits for its configuration");
        com.ecloud.compute.api.access.ContainerAccess lifecycle = (com.ecloud.compute.api.access.ContainerAccess)
                Proxy.newProxyInstance(ReadinessTest.class.getClassLoader(),
                        new Class<?>[] { com.ecloud.compute.api.access.ContainerAccess.class }, (proxy, method, args) -> null);
        readiness.bindLifecycle(lifecycle);
        assertFalse(readiness.check().ready(), "the WebSocket endpoints wait for their configuration");
        readiness.bindStatusStream(new Object());
        readiness.bindContainerStreams(new Object());
        Readiness.Report report = readiness.check();
        assertTrue(report.ready());
        assertEquals(Map.of("store", "ok", "lifecycle", "ok", "websockets", "ok", "runtimes", "1 of 2 healthy"),
                report.checks());
        Response ready = health.ready();
        assertEquals(200, ready.getStatus());
        assertEquals("ready", ((Map<?, ?>) ready.getEntity()).get("status"));

        readiness.unbindRuntime(healthy);
        assertFalse(readiness.check().ready());
        readiness.bindRuntime(healthy);
        readiness.unbindStore(store);
        assertFalse(readiness.check().ready());
    }

    @Test
    void aFailingFingerprintCountsAsUnhealthy() {
        readiness.bindStore(store());
        readiness.bindRuntime(runtime(() -> {
            throw new IllegalStateException("boom");
        }));
        readiness.bindRuntime(runtime(() -> fingerprint(Health.UNDETECTED)));
        Readiness.Report report = readiness.check();
        assertFalse(report.ready());
        assertEquals("0 of 2 healthy", report.checks().get("runtimes"));
    }

    @Test
    void aGreedyRebindIsNotUndoneByTheLateUnbind() {
        ContainerStore first = store();
        ContainerStore second = store();
        readiness.bindStore(first);
        readiness.bindStore(second);
        readiness.unbindStore(first);
        assertEquals("ok", readiness.check().checks().get("store"));
    }
}
