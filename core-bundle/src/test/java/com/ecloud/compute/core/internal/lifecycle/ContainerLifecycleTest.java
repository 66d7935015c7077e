package com.ecloud.compute.core.internal.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.ecloud.compute.api.event.ContainerEvent;
import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.model.InstanceType;
import com.ecloud.compute.api.model.SshKey;
import com.ecloud.compute.api.runtime.RuntimeState;
import com.ecloud.compute.api.runtime.Usage;
import com.ecloud.compute.api.store.LimitExceededException;
import com.ecloud.compute.core.internal.config.ImagesConfig;
import com.ecloud.compute.core.internal.config.PlatformConfig;
import com.ecloud.compute.core.internal.http.ApiException;
import com.ecloud.compute.core.internal.images.ImageCatalog;

/** The state machine's logic on a fake runtime and fake stores; the real engine is proven by the integration tests. */
class ContainerLifecycleTest {

    private final InMemoryStores stores = new InMemoryStores();
    private final FakeRuntime runtime = new FakeRuntime("fake-1");
    private final List<ContainerEvent> events = new CopyOnWriteArrayList<>();
    private ContainerLifecycle lifecycle;
    private SshKey key;

    private ContainerLifecycle start(Map<String, Object> settings) {
        Map<String, Object> s = new HashMap<>(Map.of("reconcile_interval_seconds", 3600, "usage_interval_seconds", 3600));
        s.putAll(settings);
        ImageCatalog images = new ImageCatalog(Configs.of(ImagesConfig.class, Map.of("registry_address", "")));
        lifecycle = new ContainerLifecycle(stores, stores, stores.ingress, images, Configs.of(PlatformConfig.class, s));
        lifecycle.bindListener(events::add);
        key = stores.add("alice", "laptop", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxq alice@laptop", "SHA256:x", 10);
        return lifecycle;
    }

    @AfterEach
    void stop() {
        if (lifecycle != null) lifecycle.deactivate();
    }

    private ContainerRequest request(InstanceType type) {
        return new ContainerRequest("web", type, 512, 5, List.of(key.id()), false, List.of("/root"), "ecloud/debian:bookworm");
    }

    private Container await(String id, Predicate<Container> condition) throws InterruptedException {
        return stores.await(id, condition);
    }

    private void awaitIdle() throws InterruptedException {
        Instant until = Instant.now().plusSeconds(10);
        int quietPolls = 0;
        while (quietPolls < 3) {
            if (Instant.now().isAfter(until)) throw new AssertionError("the lifecycle never became idle");
            quietPolls = lifecycle.idle() ? quietPolls + 1 : 0;
            Thread.sleep(10);
        }
    }

    /** Default configuration, the fake runtime bound, and alice's tiny container running on it. */
    private Container runningTinyContainer() throws InterruptedException {
        start(Map.of());
        lifecycle.bindRuntime(runtime);
        Container c = lifecycle.create("alice", request(InstanceType.TINY));
        awaitStatus(c.id(), ContainerStatus.RUNNING);
        return c;
    }

    private Container awaitStatus(String id, ContainerStatus status) throws InterruptedException {
        return await(id, c -> c.status() == status);
    }

    @Test
    void createProvisionsOnAHostOfTheArchAndPublishesEveryStatus() throws Exception {
        start(Map.of());
        lifecycle.bindRuntime(runtime);
        Container c = lifecycle.create("alice", request(InstanceType.NANO));
        assertEquals(ContainerStatus.PENDING, c.status());
        awaitStatus(c.id(), ContainerStatus.RUNNING);
        var spec = runtime.specs.get(c.id());
        assertEquals("ecloud/debian:bookworm-arm64", spec.image());
        assertEquals(Arch.ARM64, spec.arch());
        assertEquals(500, spec.cpuMillis());
        assertEquals(List.of(key.publicKey()), spec.authorizedKeys());
        assertEquals("fake-1", stores.find(c.id()).get().runtimeHost());
        Thread.sleep(100);
        List<ContainerStatus> seen = events.stream().filter(e -> e.containerId().equals(c.id())).map(ContainerEvent::status).toList();
        assertEquals(List.of(ContainerStatus.PENDING, ContainerStatus.INITIALIZING, ContainerStatus.RUNNING), seen);
    }

    @Test
    void stopAndStartKeepTheEngineContainer() throws Exception {
        Container c = runningTinyContainer();
        assertEquals(ContainerStatus.STOPPED, lifecycle.stop("alice", c.id()).status());
        assertEquals(RuntimeState.Phase.EXITED, runtime.containers.get(c.id()).phase());
        assertEquals(ContainerStatus.STOPPED, lifecycle.stop("alice", c.id()).status(), "stop is idempotent");
        assertEquals(ContainerStatus.PENDING, lifecycle.start("alice", c.id()).status());
        awaitStatus(c.id(), ContainerStatus.RUNNING);
        assertEquals(ContainerStatus.RUNNING, lifecycle.start("alice", c.id()).status(), "start is idempotent");
        assertEquals(1, runtime.calls.stream().filter(s -> s.startsWith("create")).count());
    }

    @Test
    void runtimeEventsDriveStatus() throws Exception {
        Container c = runningTinyContainer();
        runtime.exit(c.id(), 3, false);
        Container stopped = awaitStatus(c.id(), ContainerStatus.STOPPED);
        assertEquals("main process exited with code 3", stopped.statusReason());
        lifecycle.start("alice", c.id());
        awaitStatus(c.id(), ContainerStatus.RUNNING);
        runtime.exit(c.id(), 137, true);
        assertTrue(awaitStatus(c.id(), ContainerStatus.STOPPED).statusReason().contains("out of memory"));
        lifecycle.start("alice", c.id());
        awaitStatus(c.id(), ContainerStatus.RUNNING);
        runtime.remove(c.id()); // behind the platform's back
        assertTrue(awaitStatus(c.id(), ContainerStatus.FAILED).statusReason().contains("lost"));
    }

    @Test
    void startsAndDeathsApplyFromTheirEventsWithoutWaitingForTheEngine() throws Exception {
        Container c = runningTinyContainer();
        awaitIdle(); // the start's own converge done: nothing holds the container when the engine stops answering
        runtime.inspectGate = new java.util.concurrent.CountDownLatch(1); // the engine answers no inspect now
        try {
            runtime.exit(c.id(), 3, false);
            assertEquals("main process exited with code 3", awaitStatus(c.id(), ContainerStatus.STOPPED).statusReason());
            runtime.start(c.id()); // behind the platform's back
            awaitStatus(c.id(), ContainerStatus.RUNNING);
            runtime.exit(c.id(), 137, true);
            assertTrue(awaitStatus(c.id(), ContainerStatus.STOPPED).statusReason().contains("out of memory"));
        } finally {
            runtime.inspectGate.countDown();
        }
    }

    @Test
    void anOutOfMemoryDeathWithoutItsEventGetsItsReasonFromTheEngine() throws Exception {
        Container c = runningTinyContainer();
        runtime.exit(c.id(), 137, true, false);
        awaitStatus(c.id(), ContainerStatus.STOPPED);
        // applied from the death at once ("exited with code 137"), then corrected from the engine's account
        await(c.id(), x -> String.valueOf(x.statusReason()).contains("out of memory"));
    }

    @Test
    void deleteRemovesEngineContainerAndStorageInAnyState() throws Exception {
        Container c = runningTinyContainer();
        lifecycle.delete("alice", c.id());
        assertTrue(stores.find(c.id()).isEmpty());
        assertFalse(runtime.containers.containsKey(c.id()));
        assertFalse(runtime.storage.contains(c.id()));
        assertEquals(404, assertThrows(ApiException.class, () -> lifecycle.get("alice", c.id())).status());
    }

    @Test
    void deletingAPendingContainerCancelsItsProvisioning() throws Exception {
        start(Map.of());
        runtime.memoryMb = 256; // full for 512 MB: the container waits for room
        lifecycle.bindRuntime(runtime);
        Container c = lifecycle.create("alice", request(InstanceType.TINY));
        assertEquals(ContainerStatus.PENDING, stores.find(c.id()).orElseThrow().status());
        lifecycle.delete("alice", c.id());
        runtime.memoryMb = 8192;
        lifecycle.reconcileAllSoon();
        Thread.sleep(300);
        assertTrue(runtime.containers.isEmpty());
        assertTrue(stores.find(c.id()).isEmpty());
    }

    @Test
    void otherUsersSeeNothing() throws Exception {
        start(Map.of());
        lifecycle.bindRuntime(runtime);
        Container c = lifecycle.create("alice", request(InstanceType.TINY));
        assertEquals(404, assertThrows(ApiException.class, () -> lifecycle.get("bob", c.id())).status());
        assertEquals(404, assertThrows(ApiException.class, () -> lifecycle.stop("bob", c.id())).status());
        assertEquals(404, assertThrows(ApiException.class, () -> lifecycle.delete("bob", c.id())).status());
        assertTrue(lifecycle.list("bob").isEmpty());
        assertEquals(422, assertThrows(ApiException.class,
                () -> lifecycle.create("bob", request(InstanceType.TINY))).status(), "alice's key is not bob's");
    }

    @Test
    void aContainerNoHostCanTakeFailsAtItsDeadline() throws Exception {
        start(Map.of("provisioning_deadline_seconds", 1));
        runtime.memoryMb = 256; // never room for 512 MB
        lifecycle.bindRuntime(runtime);
        Container c = lifecycle.create("alice", request(InstanceType.NANO));
        Container failed = awaitStatus(c.id(), ContainerStatus.FAILED);
        assertTrue(failed.statusReason().contains("did not start within 1 s"), failed.statusReason());
    }

    @Test
    void withoutAHealthyHostOfItsArchACreateIs503AndNothingIsStored() throws Exception {
        start(Map.of());
        ApiException none = assertThrows(ApiException.class, () -> lifecycle.create("alice", request(InstanceType.TINY)));
        assertEquals(503, none.status());
        assertTrue(none.getMessage().contains("no healthy amd64 host"), none.getMessage());
        runtime.arches = java.util.Set.of(com.ecloud.compute.api.model.Arch.AMD64);
        lifecycle.bindRuntime(runtime);
        ApiException foreign = assertThrows(ApiException.class, () -> lifecycle.create("alice", request(InstanceType.NANO)));
        assertEquals(503, foreign.status());
        assertTrue(foreign.getMessage().contains("arm64"), foreign.getMessage());
        assertTrue(lifecycle.list("alice").isEmpty(), "nothing stored");
        assertEquals(ContainerStatus.PENDING, lifecycle.create("alice", request(InstanceType.TINY)).status());
    }

    @Test
    void aStartTheEngineRefusesFailsWithItsReason() throws Exception {
        start(Map.of());
        runtime.startFails = true;
        lifecycle.bindRuntime(runtime);
        Container c = lifecycle.create("alice", request(InstanceType.TINY));
        assertEquals("image has no command", awaitStatus(c.id(), ContainerStatus.FAILED).statusReason());
    }

    @Test
    void reconciliationResumesInterruptedProvisioningAndRemovesOrphans() throws Exception {
        start(Map.of("orphan_grace_seconds", 0));
        // as the platform left it when killed: placed, initializing, engine container never created
        Container interrupted = new Container("abcd1234", "alice", "web", ContainerStatus.INITIALIZING, null,
                InstanceType.TINY, 512, 5, false, false, "ecloud/debian:bookworm", List.of("/root"), List.of(key.id()),
                "fake-1", Instant.now());
        stores.create(interrupted, 3);
        runtime.containers.put("zzzz9999", new RuntimeState("zzzz9999", RuntimeState.Phase.RUNNING, null, null, false, Instant.now(), null));
        lifecycle.bindRuntime(runtime); // binding reconciles the host
        awaitStatus("abcd1234", ContainerStatus.RUNNING);
        Instant until = Instant.now().plusSeconds(5);
        while (runtime.containers.containsKey("zzzz9999") && Instant.now().isBefore(until)) Thread.sleep(10);
        assertFalse(runtime.containers.containsKey("zzzz9999"), "orphan removed");
        assertTrue(runtime.calls.contains("removeStorage zzzz9999"));
    }

    @Test
    void storageLeftWithoutAContainerIsRemovedButKnownStorageIsKept() throws Exception {
        start(Map.of("orphan_grace_seconds", 0));
        lifecycle.bindRuntime(runtime);
        Container c = lifecycle.create("alice", request(InstanceType.TINY));
        awaitStatus(c.id(), ContainerStatus.RUNNING);
        runtime.storage.add("yyyy8888"); // an interrupted create: storage, no engine container, no record
        lifecycle.reconcileHost("fake-1");
        assertFalse(runtime.storage.contains("yyyy8888"));
        assertTrue(runtime.storage.contains(c.id()));
        assertEquals(ContainerStatus.RUNNING, stores.find(c.id()).orElseThrow().status());
    }

    @Test
    void aContainerOverItsStorageIsStoppedWithAReason() throws Exception {
        Container c = runningTinyContainer();
        runtime.usage = new Usage(1 << 20, 1L << 30, 5L << 30);
        lifecycle.refreshUsage();
        Container stopped = awaitStatus(c.id(), ContainerStatus.STOPPED);
        assertTrue(stopped.statusReason().contains("storage_gb of 5"), stopped.statusReason());
    }

    @Test
    void usageIsCachedForRunningContainers() throws Exception {
        Container c = runningTinyContainer();
        runtime.usage = new Usage(256L << 20, 1L << 29, 0);
        lifecycle.refreshUsage();
        assertEquals(256L << 20, lifecycle.usage(c.id()).orElseThrow().memoryUsedBytes());
        lifecycle.stop("alice", c.id());
        assertTrue(lifecycle.usage(c.id()).isEmpty());
    }

    @Test
    void aRevokedKeyLeavesAuthorizedKeys() throws Exception {
        start(Map.of());
        lifecycle.bindRuntime(runtime);
        SshKey second = stores.add("alice", "desk", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxz alice@desk", "SHA256:y", 10);
        Container c = lifecycle.create("alice", new ContainerRequest("web", InstanceType.TINY, 512, 5,
                List.of(key.id(), second.id()), false, List.of("/root"), "ecloud/debian:bookworm"));
        awaitStatus(c.id(), ContainerStatus.RUNNING);
        lifecycle.keyRevoked(stores.delete("alice", key.id()).orElseThrow());
        Instant until = Instant.now().plusSeconds(5);
        String file = null;
        while (Instant.now().isBefore(until)) {
            byte[] b = runtime.files.get(c.id() + ":" + ContainerLifecycle.AUTHORIZED_KEYS);
            file = b == null ? null : new String(b, StandardCharsets.UTF_8);
            if (file != null) break;
            Thread.sleep(10);
        }
        assertEquals(second.publicKey() + "\n", file);
    }

    @Test
    void theContainerLimitHolds() throws Exception {
        start(Map.of());
        lifecycle.bindRuntime(runtime);
        for (int i = 0; i < 3; i++) lifecycle.create("alice", request(InstanceType.TINY));
        assertThrows(LimitExceededException.class, () -> lifecycle.create("alice", request(InstanceType.TINY)));
        assertEquals(3, lifecycle.list("alice").size());
    }

    @Test
    void mountChangesRecreateTheEngineContainerAndRestartIt() throws Exception {
        Container c = runningTinyContainer();
        assertTrue(lifecycle.updateMounts("alice", c.id(), List.of("/root", "/data")));
        assertEquals(List.of("/root", "/data"), runtime.specs.get(c.id()).mountPaths());
        assertTrue(runtime.containers.get(c.id()).running());
        assertTrue(runtime.storage.contains(c.id()), "storage kept");
        assertFalse(lifecycle.updateMounts("alice", c.id(), List.of("/root", "/data")), "no change, no restart");
        assertNull(awaitStatus(c.id(), ContainerStatus.RUNNING).statusReason());
    }
}
