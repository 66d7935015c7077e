package com.ecloud.compute.store.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.opentest4j.TestAbortedException;

import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.model.IngressRule;
import com.ecloud.compute.api.model.InstanceType;
import com.ecloud.compute.api.model.SshKey;
import com.ecloud.compute.api.store.ConflictException;
import com.ecloud.compute.api.store.LimitExceededException;
import com.zaxxer.hikari.HikariDataSource;

/** The stores' behaviour, run against each database the store supports (one subclass per database). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AbstractStoreTest {

    private static final int MAX_CONTAINERS = 3;
    private static final int MAX_KEYS = 10;

    private TestDatabase database;
    private HikariDataSource pool;
    private JdbcContainerStore containers;
    private JdbcKeyStore keys;
    private JdbcIngressStore ingress;

    /** A new, empty database (not yet migrated) that this class may use as it likes. */
    abstract TestDatabase openDatabase() throws Exception;

    /** Why this database is not there to test against (the tests are skipped); null when it is. */
    private String unavailable;

    @BeforeAll
    void migrate() throws Exception {
        try {
            database = openDatabase();
        } catch (TestAbortedException e) {
            // Report every test as skipped rather than the class as empty
            unavailable = e.getMessage();
            return;
        }
        pool = database.pool();
        SchemaMigration.migrate(pool);
        containers = new JdbcContainerStore(pool);
        keys = new JdbcKeyStore(pool);
        ingress = new JdbcIngressStore(pool);
    }

    @AfterAll
    void dropDatabase() throws Exception {
        if (database != null) database.close();
    }

    @BeforeEach
    void emptyTables() throws SQLException {
        Assumptions.assumeTrue(unavailable == null, unavailable);
        TestDatabase.execute(pool, "DELETE FROM ingress_rules", "DELETE FROM container_keys",
                "DELETE FROM container_mounts", "DELETE FROM containers", "DELETE FROM ssh_keys",
                "DELETE FROM owners");
    }

    // ---------------------------------------------------------------------------------------------- containers

    @Test
    void createdContainerIsFoundAsStored() {
        SshKey key = addKey("alice", "k1");
        Container created = containers.create(container("c0000001", "alice")
                .withMountPaths(List.of("/data", "/home/user", "/app"))
                .withSshKeyIds(List.of(key.id()))
                .withRuntimeHost("docker-1"), MAX_CONTAINERS);

        assertEquals(List.of("/data", "/home/user", "/app"), created.mountPaths());
        assertEquals(List.of(key.id()), created.sshKeyIds());
        assertEquals(Optional.of(created), containers.find("c0000001"));
        assertEquals(Optional.of(created), containers.findOwned("alice", "c0000001"));
        assertEquals(List.of(created), containers.listByOwner("alice"));
        assertEquals(List.of(created), containers.listAll());
    }

    @Test
    void everyFieldRoundTrips() {
        Instant createdAt = Instant.parse("2025-03-01T10:15:30.123456789Z");
        Container full = new Container("abcd1234", "alice", "my-box_1.0", ContainerStatus.FAILED,
                "the image ecloud/nope does not exist", InstanceType.MEDIUM, 2048, 20, true, true,
                "ecloud/debian:bookworm", List.of("/srv"), List.of(), "lxd-7", createdAt);

        Container created = containers.create(full, MAX_CONTAINERS);

        assertEquals(Instant.parse("2025-03-01T10:15:30.123456Z"), created.createdAt(), "microsecond precision");
        Container found = containers.find("abcd1234").orElseThrow();
        assertEquals(created, found);
        assertEquals(ContainerStatus.FAILED, found.status());
        assertEquals(InstanceType.MEDIUM, found.instanceType());
        assertEquals("the image ecloud/nope does not exist", found.statusReason());
        assertEquals("lxd-7", found.runtimeHost());
        assertTrue(found.sshEnabled());
        assertTrue(found.httpsEnabled());
    }

    @Test
    void containersAreListedOldestFirstAndPerOwner() {
        Instant t = Instant.parse("2025-01-01T00:00:00Z");
        containers.create(container("c0000002", "alice", t.plusSeconds(20)), MAX_CONTAINERS);
        containers.create(container("c0000001", "alice", t.plusSeconds(10)), MAX_CONTAINERS);
        containers.create(container("c0000003", "bob", t.plusSeconds(15)), MAX_CONTAINERS);

        assertEquals(List.of("c0000001", "c0000002"), ids(containers.listByOwner("alice")));
        assertEquals(List.of("c0000003"), ids(containers.listByOwner("bob")));
        assertEquals(List.of("c0000001", "c0000003", "c0000002"), ids(containers.listAll()));
        assertEquals(List.of(), containers.listByOwner("carol"));
    }

    @Test
    void anotherOwnersContainerIsNotFoundAsOwned() {
        containers.create(container("c0000001", "alice"), MAX_CONTAINERS);

        assertTrue(containers.findOwned("bob", "c0000001").isEmpty());
        assertTrue(containers.findOwned("alice", "c0000001").isPresent());
        assertTrue(containers.find("nothere").isEmpty());
        assertTrue(containers.findOwned("alice", "nothere").isEmpty());
    }

    @Test
    void takenIdIsAConflict() {
        containers.create(container("c0000001", "alice"), MAX_CONTAINERS);

        ConflictException e = assertThrows(ConflictException.class,
                () -> containers.create(container("c0000001", "bob"), MAX_CONTAINERS));
        assertTrue(e.getMessage().contains("c0000001"), e.getMessage());
        assertEquals("alice", containers.find("c0000001").orElseThrow().ownerId());
    }

    @Test
    void attachingAMissingOrForeignKeyIsAConflictAndStoresNothing() {
        SshKey bobs = addKey("bob", "bobs");
        SshKey alices = addKey("alice", "alices");

        assertThrows(ConflictException.class, () -> containers.create(container("c0000001", "alice")
                .withSshKeyIds(List.of(alices.id(), bobs.id())), MAX_CONTAINERS));
        assertThrows(ConflictException.class, () -> containers.create(container("c0000001", "alice")
                .withSshKeyIds(List.of(alices.id() + 1000)), MAX_CONTAINERS));

        assertTrue(containers.find("c0000001").isEmpty());
        assertEquals(0, rows("SELECT COUNT(*) FROM container_keys"));
    }

    @Test
    void containerLimitHoldsPerOwner() {
        for (int i = 1; i <= MAX_CONTAINERS; i++) {
            containers.create(container("a000000" + i, "alice"), MAX_CONTAINERS);
        }
        LimitExceededException e = assertThrows(LimitExceededException.class,
                () -> containers.create(container("a0000009", "alice"), MAX_CONTAINERS));
        assertTrue(e.getMessage().contains("3"), e.getMessage());
        assertTrue(containers.find("a0000009").isEmpty());

        containers.create(container("b0000001", "bob"), MAX_CONTAINERS);
        assertTrue(containers.delete("a0000001"));
        containers.create(container("a0000009", "alice"), MAX_CONTAINERS);
        assertEquals(MAX_CONTAINERS, containers.listByOwner("alice").size());
    }

    @Test
    void updateWritesTheChangeAndReplacesMountPaths() {
        SshKey key = addKey("alice", "k");
        Container created = containers.create(container("c0000001", "alice")
                .withMountPaths(List.of("/a", "/b")).withSshKeyIds(List.of(key.id())), MAX_CONTAINERS);

        Optional<Container> updated = containers.update("c0000001", c -> c
                .withStatus(ContainerStatus.RUNNING, null)
                .withRuntimeHost("docker-2")
                .withHttpsEnabled(true)
                .withMountPaths(List.of("/c", "/a")));

        Container expected = created.withStatus(ContainerStatus.RUNNING, null).withRuntimeHost("docker-2")
                .withHttpsEnabled(true).withMountPaths(List.of("/c", "/a"));
        assertEquals(Optional.of(expected), updated);
        assertEquals(Optional.of(expected), containers.find("c0000001"));
    }

    @Test
    void updateClearsNullableColumnsAndKeepsKeys() {
        SshKey key = addKey("alice", "k");
        containers.create(container("c0000001", "alice").withStatus(ContainerStatus.FAILED, "broken")
                .withRuntimeHost("h").withSshKeyIds(List.of(key.id())), MAX_CONTAINERS);

        Container updated = containers.update("c0000001", c -> c.withStatus(ContainerStatus.PENDING, null)
                .withRuntimeHost(null).withSshKeyIds(List.of())).orElseThrow();

        assertEquals(null, updated.statusReason());
        assertEquals(null, updated.runtimeHost());
        assertEquals(List.of(key.id()), updated.sshKeyIds(), "update does not change attached keys");
        assertEquals(updated, containers.find("c0000001").orElseThrow());
    }

    @Test
    void updateThatChangesNothingWritesNothing() throws SQLException {
        Container created = containers.create(container("c0000001", "alice"), MAX_CONTAINERS);
        Instant updatedAt = updatedAt("c0000001");

        Optional<Container> same = containers.update("c0000001", c -> c);

        assertEquals(Optional.of(created), same);
        assertEquals(updatedAt, updatedAt("c0000001"));
        assertNotEquals(updatedAt, updatedAtAfter(() -> containers.update("c0000001",
                c -> c.withSshEnabled(!c.sshEnabled())), "c0000001"));
    }

    @Test
    void updateOfMissingContainerIsEmptyAndIdentityCannotChange() {
        assertTrue(containers.update("nothere", c -> c.withRuntimeHost("x")).isEmpty());

        Container created = containers.create(container("c0000001", "alice"), MAX_CONTAINERS);
        assertThrows(IllegalArgumentException.class, () -> containers.update("c0000001", c -> new Container(
                c.id(), "mallory", c.name(), c.status(), c.statusReason(), c.instanceType(), c.memoryMb(),
                c.storageGb(), c.sshEnabled(), c.httpsEnabled(), c.image(), c.mountPaths(), c.sshKeyIds(),
                c.runtimeHost(), c.createdAt())));
        assertEquals(Optional.of(created), containers.find("c0000001"));
    }

    @Test
    void concurrentUpdatesOfOneContainerAreSerialised() throws Exception {
        containers.create(container("c0000001", "alice").withMountPaths(List.of()), MAX_CONTAINERS);
        int threads = 10;
        // Each update appends one path to what it read under the row lock: a lost update would lose a path
        runTogether(threads, i -> () -> containers.update("c0000001", c -> {
            List<String> paths = new ArrayList<>(c.mountPaths());
            paths.add("/p" + i);
            return c.withMountPaths(paths);
        }));
        assertEquals(threads, containers.find("c0000001").orElseThrow().mountPaths().size());
    }

    @Test
    void deleteTakesMountsKeyAttachmentsAndIngressRulesAlong() throws SQLException {
        SshKey key = addKey("alice", "k");
        containers.create(container("c0000001", "alice").withMountPaths(List.of("/a"))
                .withSshKeyIds(List.of(key.id())), MAX_CONTAINERS);
        containers.create(container("c0000002", "alice").withMountPaths(List.of("/b"))
                .withSshKeyIds(List.of(key.id())), MAX_CONTAINERS);
        ingress.add("c0000001", 80, 8080);
        ingress.add("c0000002", 80, 8080);

        assertTrue(containers.delete("c0000001"));

        assertFalse(containers.delete("c0000001"));
        assertTrue(containers.find("c0000001").isEmpty());
        assertEquals(0, rows("SELECT COUNT(*) FROM container_mounts WHERE container_id = 'c0000001'"));
        assertEquals(0, rows("SELECT COUNT(*) FROM container_keys WHERE container_id = 'c0000001'"));
        assertEquals(List.of(), ingress.list("c0000001"));
        assertEquals(List.of("/b"), containers.find("c0000002").orElseThrow().mountPaths());
        assertEquals(1, ingress.list("c0000002").size());
        assertEquals(Optional.of(key), keys.find("alice", key.id()), "the key itself stays");
    }

    // ---------------------------------------------------------------------------------------------------- keys

    @Test
    void keysAreAddedListedAndFoundPerOwner() {
        SshKey first = keys.add("alice", "laptop", "ssh-ed25519 AAAA1 me@laptop", "SHA256:one", MAX_KEYS);
        SshKey second = keys.add("alice", "desktop", "ssh-ed25519 AAAA2", "SHA256:two", MAX_KEYS);
        SshKey bobs = keys.add("bob", "bob", "ssh-ed25519 AAAA3", "SHA256:three", MAX_KEYS);

        assertEquals("laptop", first.name());
        assertEquals("ssh-ed25519 AAAA1 me@laptop", first.publicKey());
        assertEquals(List.of(first, second), keys.list("alice"));
        assertEquals(Optional.of(second), keys.find("alice", second.id()));
        assertTrue(keys.find("alice", bobs.id()).isEmpty(), "another owner's key");
        assertEquals(List.of(first, second), keys.findAll("alice", List.of(second.id(), first.id(), bobs.id(), -1L)));
        assertEquals(List.of(), keys.findAll("alice", List.of()));
        assertEquals(List.of(), keys.list("carol"));
    }

    @Test
    void longPublicKeyRoundTrips() {
        String rsa = "ssh-rsa " + "A".repeat(5000) + " comment";
        SshKey key = keys.add("alice", "big", rsa, "SHA256:big", MAX_KEYS);
        assertEquals(rsa, keys.find("alice", key.id()).orElseThrow().publicKey());
    }

    @Test
    void duplicateFingerprintIsAConflictForTheSameOwnerOnly() {
        keys.add("alice", "one", "ssh-ed25519 AAAA", "SHA256:same", MAX_KEYS);

        ConflictException e = assertThrows(ConflictException.class,
                () -> keys.add("alice", "two", "ssh-ed25519 AAAA", "SHA256:same", MAX_KEYS));
        assertTrue(e.getMessage().contains("SHA256:same"), e.getMessage());
        keys.add("bob", "one", "ssh-ed25519 AAAA", "SHA256:same", MAX_KEYS);
        assertEquals(1, keys.list("alice").size());
    }

    @Test
    void keyLimitHoldsPerOwner() {
        for (int i = 0; i < MAX_KEYS; i++) keys.add("alice", "k" + i, "ssh-ed25519 K" + i, "SHA256:" + i, MAX_KEYS);

        assertThrows(LimitExceededException.class, () -> keys.add("alice", "x", "ssh-ed25519 X", "SHA256:x", MAX_KEYS));
        keys.add("bob", "x", "ssh-ed25519 X", "SHA256:x", MAX_KEYS);
        assertEquals(MAX_KEYS, keys.list("alice").size());
    }

    @Test
    void deletingAKeyDetachesItFromItsContainers() {
        SshKey kept = addKey("alice", "kept");
        SshKey revoked = addKey("alice", "revoked");
        containers.create(container("c0000001", "alice").withSshKeyIds(List.of(kept.id(), revoked.id())), MAX_CONTAINERS);
        containers.create(container("c0000002", "alice").withSshKeyIds(List.of(revoked.id())), MAX_CONTAINERS);
        containers.create(container("c0000003", "alice").withSshKeyIds(List.of(kept.id())), MAX_CONTAINERS);
        assertEquals(List.of(kept, revoked), keys.attachedTo("c0000001"));

        Optional<List<String>> detachedFrom = keys.delete("alice", revoked.id());

        assertEquals(Set.of("c0000001", "c0000002"), Set.copyOf(detachedFrom.orElseThrow()));
        assertEquals(List.of(kept), keys.attachedTo("c0000001"));
        assertEquals(List.of(), keys.attachedTo("c0000002"));
        assertEquals(List.of(kept.id()), containers.find("c0000001").orElseThrow().sshKeyIds());
        assertEquals(List.of(), containers.find("c0000002").orElseThrow().sshKeyIds());
        assertEquals(List.of(kept), keys.list("alice"));
    }

    @Test
    void deletingAnUnknownOrForeignKeyChangesNothing() {
        SshKey alices = addKey("alice", "a");
        containers.create(container("c0000001", "alice").withSshKeyIds(List.of(alices.id())), MAX_CONTAINERS);

        assertTrue(keys.delete("bob", alices.id()).isEmpty());
        assertTrue(keys.delete("alice", alices.id() + 1000).isEmpty());
        assertTrue(keys.delete("nobody", 1).isEmpty());
        assertEquals(Optional.of(List.of()), keys.delete("alice", addKey("alice", "unused").id()));
        assertEquals(List.of(alices), keys.attachedTo("c0000001"));
    }

    // ------------------------------------------------------------------------------------------------- ingress

    @Test
    void ingressRulesAreAddedListedAndDeleted() {
        containers.create(container("c0000001", "alice"), MAX_CONTAINERS);
        containers.create(container("c0000002", "bob"), MAX_CONTAINERS);
        IngressRule https = ingress.add("c0000001", 443, 8443);
        IngressRule http = ingress.add("c0000001", 80, 8080);
        IngressRule other = ingress.add("c0000002", 8000, 3000);

        assertEquals("c0000001", https.containerId());
        assertEquals(443, https.port());
        assertEquals(8443, https.targetPort());
        assertEquals(List.of(http, https), ingress.list("c0000001"), "by port");
        assertEquals(List.of(http, https, other), ingress.listAll());

        assertTrue(ingress.delete("c0000001", 80));
        assertFalse(ingress.delete("c0000001", 80));
        assertFalse(ingress.delete("c0000002", 443));
        assertEquals(List.of(https), ingress.list("c0000001"));
    }

    @Test
    void duplicateIngressPortIsAConflict() {
        containers.create(container("c0000001", "alice"), MAX_CONTAINERS);
        containers.create(container("c0000002", "alice"), MAX_CONTAINERS);
        ingress.add("c0000001", 80, 8080);

        ConflictException e = assertThrows(ConflictException.class, () -> ingress.add("c0000001", 80, 9090));
        assertTrue(e.getMessage().contains("80"), e.getMessage());
        ingress.add("c0000002", 80, 9090);
        assertEquals(8080, ingress.list("c0000001").get(0).targetPort());
    }

    @Test
    void ingressRuleForMissingContainerIsAConflict() {
        assertThrows(ConflictException.class, () -> ingress.add("nothere", 80, 8080));
        assertEquals(List.of(), ingress.listAll());
    }

    // --------------------------------------------------------------------------------------------- concurrency

    @Test
    void concurrentCreatesByOneOwnerNeverPassTheLimit() throws Exception {
        int threads = 20;
        List<Object> outcomes = runTogether(threads,
                i -> () -> containers.create(container(String.format("r%07d", i), "racer"), MAX_CONTAINERS));

        assertEquals(MAX_CONTAINERS, count(outcomes, Container.class), () -> summary(outcomes));
        assertEquals(threads - MAX_CONTAINERS, count(outcomes, LimitExceededException.class), () -> summary(outcomes));
        assertEquals(MAX_CONTAINERS, containers.listByOwner("racer").size());
        assertEquals(MAX_CONTAINERS, rows("SELECT COUNT(*) FROM containers WHERE owner_id = 'racer'"));
    }

    @Test
    void concurrentKeyAddsByOneOwnerNeverPassTheLimit() throws Exception {
        int threads = 30;
        List<Object> outcomes = runTogether(threads,
                i -> () -> keys.add("racer", "k" + i, "ssh-ed25519 K" + i, "SHA256:k" + i, MAX_KEYS));

        assertEquals(MAX_KEYS, count(outcomes, SshKey.class), () -> summary(outcomes));
        assertEquals(threads - MAX_KEYS, count(outcomes, LimitExceededException.class), () -> summary(outcomes));
        assertEquals(MAX_KEYS, keys.list("racer").size());
    }

    @Test
    void concurrentAddsOfOneFingerprintStoreItOnce() throws Exception {
        List<Object> outcomes = runTogether(10,
                i -> () -> keys.add("racer", "k" + i, "ssh-ed25519 SAME", "SHA256:same", MAX_KEYS));

        assertEquals(1, count(outcomes, SshKey.class), () -> summary(outcomes));
        assertEquals(9, count(outcomes, ConflictException.class), () -> summary(outcomes));
    }

    // ------------------------------------------------------------------------------------------------- schema

    @Test
    void migratingAgainChangesNothing() throws Exception {
        containers.create(container("c0000001", "alice"), MAX_CONTAINERS);
        long applied = rows("SELECT COUNT(*) FROM DATABASECHANGELOG");

        SchemaMigration.migrate(pool);
        SchemaMigration.migrate(pool);

        assertEquals(applied, rows("SELECT COUNT(*) FROM DATABASECHANGELOG"));
        assertTrue(applied >= 6, "changesets applied: " + applied);
        assertTrue(containers.find("c0000001").isPresent());
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private static Container container(String id, String owner) {
        return container(id, owner, Instant.now());
    }

    private static Container container(String id, String owner, Instant createdAt) {
        return new Container(id, owner, "box-" + id, ContainerStatus.PENDING, null, InstanceType.NANO, 512, 1,
                false, false, "ecloud/debian:bookworm", List.of(), List.of(), null, createdAt);
    }

    private SshKey addKey(String owner, String name) {
        return keys.add(owner, name, "ssh-ed25519 AAAA" + name, "SHA256:" + owner + "-" + name, MAX_KEYS);
    }

    private static List<String> ids(List<Container> list) {
        return list.stream().map(Container::id).toList();
    }

    private long rows(String countQuery) {
        try (Connection c = pool.getConnection(); PreparedStatement q = c.prepareStatement(countQuery);
                ResultSet r = q.executeQuery()) {
            r.next();
            long n = r.getLong(1);
            c.rollback();
            return n;
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private Instant updatedAt(String id) throws SQLException {
        try (Connection c = pool.getConnection();
                PreparedStatement q = c.prepareStatement("SELECT updated_at FROM containers WHERE id = ?")) {
            q.setString(1, id);
            try (ResultSet r = q.executeQuery()) {
                r.next();
                Instant t = Timestamps.get(r, "updated_at");
                c.rollback();
                return t;
            }
        }
    }

    private Instant updatedAtAfter(Runnable action, String id) throws SQLException {
        Instant before = updatedAt(id);
        // The clock must move on for a new updated_at to be visible
        while (!Instant.now().truncatedTo(ChronoUnit.MICROS).isAfter(before)) Thread.onSpinWait();
        action.run();
        return updatedAt(id);
    }

    /** Task i of {@code n}, all released at once; the outcome of each: its result or what it threw. */
    private List<Object> runTogether(int n, IntFunction<Callable<?>> task) throws Exception {
        warmUp();
        ExecutorService executor = Executors.newFixedThreadPool(n);
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<Object>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Callable<?> work = task.apply(i);
                futures.add(executor.submit(() -> {
                    ready.countDown();
                    go.await();
                    try {
                        return work.call();
                    } catch (Exception e) {
                        return e;
                    }
                }));
            }
            assertTrue(ready.await(10, TimeUnit.SECONDS));
            go.countDown();
            List<Object> outcomes = new ArrayList<>();
            for (Future<Object> f : futures) {
                try {
                    outcomes.add(f.get(60, TimeUnit.SECONDS));
                } catch (Exception e) {
                    throw new AssertionError("a task did not finish", e);
                }
            }
            return outcomes;
        } finally {
            executor.shutdownNow();
        }
    }

    /**
     * Opens every connection of the pool, so that the racing transactions run side by side instead of one after
     * the other while the pool is still growing.
     */
    private void warmUp() throws SQLException {
        List<Connection> open = new ArrayList<>();
        try {
            for (int i = 0; i < pool.getMaximumPoolSize(); i++) open.add(pool.getConnection());
        } finally {
            for (Connection c : open) c.close();
        }
    }

    /** How many of each outcome, e.g. {Container=3, LimitExceededException=17}. */
    private static String summary(List<Object> outcomes) {
        return outcomes.stream().collect(Collectors.groupingBy(o -> o.getClass().getSimpleName(), TreeMap::new,
                Collectors.counting())).toString();
    }

    private static long count(List<Object> outcomes, Class<?> type) {
        return outcomes.stream().filter(type::isInstance).count();
    }
}
