package com.ecloud.compute.core.internal.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.core.internal.http.ApiException;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.model.InstanceType;
import com.ecloud.compute.api.model.SshKey;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.SigningKeys;
import com.ecloud.compute.core.internal.config.ImagesConfig;
import com.ecloud.compute.core.internal.config.PlatformConfig;
import com.ecloud.compute.core.internal.images.ImageCatalog;
import com.ecloud.compute.core.internal.operator.ComputeCommands;

/** The operators' Gogo commands on a fake runtime and fake stores (Gogo itself is driven over SSH end to end). */
class ComputeCommandsTest {

    @TempDir
    Path data;

    private final InMemoryStores stores = new InMemoryStores();
    private final FakeRuntime runtime = new FakeRuntime("fake-1");
    private ContainerLifecycle lifecycle;
    private ComputeCommands commands;
    private SigningKeys keys;

    @BeforeEach
    void start() throws Exception {
        ImageCatalog images = new ImageCatalog(Configs.of(ImagesConfig.class, Map.of("registry_address", "")));
        lifecycle = new ContainerLifecycle(stores, stores, stores.ingress, images, Configs.of(PlatformConfig.class,
                Map.of("reconcile_interval_seconds", 3600, "usage_interval_seconds", 3600)));
        lifecycle.bindDrainedHosts(new DrainedHosts(data.resolve("state/drained-hosts")));
        lifecycle.bindRuntime(runtime);
        keys = SigningKeys.openOrCreate(data);
        commands = new ComputeCommands(lifecycle, keys.issuer());
    }

    @AfterEach
    void stop() {
        lifecycle.deactivate();
    }

    private Container create(String user, String name) {
        SshKey key = stores.add(user, "k-" + name, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxq " + name, "SHA256:" + name, 10);
        return lifecycle.create(user, new ContainerRequest(name, InstanceType.TINY, 256, 5, List.of(key.id()), false,
                List.of("/root"), "ecloud/debian:bookworm"));
    }

    private Container await(String id, Predicate<Container> condition) throws InterruptedException {
        return stores.await(id, condition);
    }

    @Test
    void listAndShowContainersOfEveryUserWithFilters() throws Exception {
        Container a = create("alice", "web");
        Container b = create("bob", "db");
        await(a.id(), c -> c.status() == ContainerStatus.RUNNING);
        await(b.id(), c -> c.status() == ContainerStatus.RUNNING);
        lifecycle.stop("bob", b.id());

        String all = commands.containers("", "", "");
        assertTrue(all.startsWith("ID"), all);
        assertTrue(all.contains(a.id()) && all.contains(b.id()) && all.endsWith("2 containers"), all);
        String alices = commands.containers("alice", "", "");
        assertTrue(alices.contains(a.id()) && !alices.contains(b.id()), alices);
        String stopped = commands.containers("", "stopped", "");
        assertTrue(stopped.contains(b.id()) && !stopped.contains(a.id()), stopped);
        assertTrue(commands.containers("", "", "elsewhere").endsWith("0 containers"));
        assertThrows(IllegalArgumentException.class, () -> commands.containers("", "sleeping", ""));

        String shown = commands.container(a.id());
        assertTrue(shown.contains("user           alice") && shown.contains("status         running")
                && shown.contains("host           fake-1"), shown);
        assertThrows(IllegalArgumentException.class, () -> commands.container("zzzzzzzz"));
    }

    @Test
    void stopStartAndDeleteAnyUsersContainer() throws Exception {
        Container c = create("carol", "app");
        await(c.id(), x -> x.status() == ContainerStatus.RUNNING);
        assertEquals(c.id() + " stopped", commands.stop(c.id()));
        assertTrue(commands.start(c.id()).startsWith(c.id() + " "));
        await(c.id(), x -> x.status() == ContainerStatus.RUNNING);
        assertTrue(commands.delete(c.id()).startsWith("deleted " + c.id()));
        assertTrue(stores.find(c.id()).isEmpty());
        assertFalse(runtime.containers.containsKey(c.id()), "the engine container went too");
    }

    @Test
    void aDrainedHostTakesNoNewContainersUntilUndrainedAndTheDrainIsKept() throws Exception {
        Container before = create("dave", "before");
        await(before.id(), x -> x.status() == ContainerStatus.RUNNING);
        assertTrue(commands.hosts().contains("open"), commands.hosts());
        // the running tiny container holds 1 core and 256 MB of the host
        assertTrue(commands.hosts().matches("(?s).*fake-1 .* 1\\.0 .* 256 MB .*"), commands.hosts());

        assertEquals("fake-1 drained", commands.drain("fake-1"));
        assertEquals("fake-1 was already drained", commands.drain("fake-1"));
        String hosts = commands.hosts();
        assertTrue(hosts.contains("fake-1") && hosts.contains("drained") && hosts.endsWith("1 host"), hosts);
        assertTrue(new DrainedHosts(data.resolve("state/drained-hosts")).contains("fake-1"), "kept on disk");

        // the only host is drained: a create is told so at once
        ApiException refused = assertThrows(ApiException.class, () -> create("dave", "after"));
        assertEquals(503, refused.status());
        assertEquals(ContainerStatus.RUNNING, stores.find(before.id()).orElseThrow().status(), "what was there stays");

        assertEquals("fake-1 takes new containers again", commands.undrain("fake-1"));
        Container placed = create("dave", "after");
        await(placed.id(), x -> x.status() == ContainerStatus.RUNNING);
        assertEquals("fake-1 was not drained", commands.undrain("fake-1"));
    }

    @Test
    void tokensAreMintedWithTheirScopesAndLifetime() throws Exception {
        Principal full = keys.verifier().verify(commands.token("24h", "erin"));
        assertEquals("erin", full.uid());
        Principal narrow = keys.verifier().verify(commands.token("90m", "erin", "compute.erin.keys:read"));
        assertEquals(List.of("compute.erin.keys"), narrow.grants().stream().map(g -> g.resource()).toList());
        assertTrue(narrow.expiresAt().isBefore(Instant.now().plus(Duration.ofMinutes(91))));
        assertThrows(IllegalArgumentException.class, () -> commands.token("0h", "erin"));
        assertThrows(IllegalArgumentException.class, () -> commands.token("1h", "Not A Uid"));
        assertThrows(IllegalArgumentException.class, () -> commands.token("1h", "erin", "nonsense"));
    }
}
