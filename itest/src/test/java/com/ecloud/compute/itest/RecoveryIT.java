package com.ecloud.compute.itest;

import static com.ecloud.compute.itest.harness.Api.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Command;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.Jwts;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;
import com.ecloud.compute.itest.harness.Poll;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The store and the engine agree whatever happens behind the platform's back: containers removed or killed in
 * the engine, the platform stopped or killed -9 in the middle of creates, the Docker daemon restarted (last:
 * it disturbs everything that uses the engine, so the restart window is kept short).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RecoveryIT {

    static final Duration CONVERGE = Duration.ofSeconds(60);

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension();

    static String uid(Api api) {
        return Jwts.claims(api.token()).path("sub").asText();
    }

    static String runningBusybox(Api api, String name) {
        String id = Fixtures.createBusybox(api, name, Fixtures.addKey(api, name + "-key")).path("id").asText();
        Fixtures.awaitRunning(api, id);
        assertEquals("running", Docker.state(Docker.name(id)).orElseThrow());
        return id;
    }

    @Test
    @Order(1)
    void containerRemovedBehindItsBackBecomesFailed() {
        Api api = platform.get().newUserApi("removed");
        String id = runningBusybox(api, "removed");
        Docker.run("rm", "-f", Docker.name(id)).orFail();
        JsonNode failed = Fixtures.awaitStatus(api, id, "failed", CONVERGE);
        assertTrue(failed.path("status_reason").isTextual() && !failed.path("status_reason").asText().isBlank(),
                "failed without a reason: " + failed);
        // it can still be deleted, and then nothing is left
        api.delete("/compute/containers/" + id).expect(200);
        api.get("/compute/containers/" + id).expectError(404);
    }

    @Test
    @Order(2)
    void containerKilledBehindItsBackBecomesStopped() {
        Api api = platform.get().newUserApi("killed");
        String id = runningBusybox(api, "killed");
        Docker.run("kill", Docker.name(id)).orFail();
        JsonNode stopped = Fixtures.awaitStatus(api, id, "stopped", CONVERGE);
        assertEquals("exited", Docker.state(Docker.name(id)).orElseThrow());
        // and it starts again through the API
        api.post("/compute/containers/" + id + "/start").expect(200);
        Fixtures.awaitRunning(api, id);
        assertEquals("running", Docker.state(Docker.name(id)).orElseThrow(), stopped.toString());
        api.delete("/compute/containers/" + id).expect(200);
    }

    @Test
    @Order(3)
    void sigtermLeavesContainersRunning() {
        PlatformProcess p = platform.get();
        Api api = p.newUserApi("sigterm");
        String id = runningBusybox(api, "survivor");
        String name = Docker.name(id);
        String engineId = Docker.inspect(name, "{{.Id}}").orElseThrow();
        String startedAt = Docker.inspect(name, "{{.State.StartedAt}}").orElseThrow();

        p.stop(); // SIGTERM, waits for the exit
        Poll.sleep(Duration.ofSeconds(3));
        assertEquals("running", Docker.state(name).orElse("gone"), "the platform's shutdown stopped its container");
        assertEquals(startedAt, Docker.inspect(name, "{{.State.StartedAt}}").orElseThrow(), "the container was restarted");

        p.start();
        assertEquals("running", Fixtures.get(api, id).path("status").asText());
        Poll.sleep(Duration.ofSeconds(6)); // a reconciliation pass later, still the same container, untouched
        assertEquals("running", Fixtures.get(api, id).path("status").asText());
        assertEquals(engineId, Docker.inspect(name, "{{.Id}}").orElseThrow());
        assertEquals(startedAt, Docker.inspect(name, "{{.State.StartedAt}}").orElseThrow());
        api.delete("/compute/containers/" + id).expect(200);
    }

    @Test
    @Order(4)
    void killMinusNineWhileCreatesAreInFlightRecovers() throws Exception {
        PlatformProcess p = platform.get();
        Api api = p.newUserApi("kill9");
        long key = Fixtures.addKey(api, "k");
        Poll.sleep(Duration.ofSeconds(2)); // the key is not what this test is about: let it settle
        List<String> volumesBefore = volumeIds(p.dataDir().resolve("volumes"));
        // the first create answered just before the kill (it must survive it), the other two in flight during it
        List<String> acknowledged = createThenKill(p, api, key, () -> Poll.sleep(Duration.ofMillis(100)));
        p.start();
        settledAndInAgreement(p, api, acknowledged, volumesBefore);
    }

    @Test
    @Order(5)
    void killMinusNineDuringProvisioningRecovers() throws Exception {
        PlatformProcess p = platform.get();
        Api api = p.newUserApi("kill9prov");
        String uid = uid(api);
        long key = Fixtures.addKey(api, "k");
        Poll.sleep(Duration.ofSeconds(2));
        List<String> volumesBefore = volumeIds(p.dataDir().resolve("volumes"));
        // killed once provisioning is under way: the first engine container of this user exists, others may not yet
        List<String> acknowledged = createThenKill(p, api, key, () -> Poll.until("provisioning to begin in the engine",
                Duration.ofSeconds(30), Duration.ofMillis(50), () -> Docker.managedNames(Docker.OWNER_LABEL, uid), l -> !l.isEmpty()));
        p.start();
        settledAndInAgreement(p, api, acknowledged, volumesBefore);
    }

    /** Sends three creates (the first one alone, then two), waits with {@code beforeKill}, kills -9; returns the 201s. */
    static List<String> createThenKill(PlatformProcess p, Api api, long key, Runnable beforeKill) throws Exception {
        List<Map<String, Object>> bodies = List.of(
                obj("name", "inflight-default", "ssh_key_ids", List.of(key)),
                obj("name", "inflight-debian", "instance_type", "tiny", "ssh_key_ids", List.of(key)),
                obj("name", "inflight-busybox", "instance_type", "tiny", "image", Fixtures.BUSYBOX, "ssh_key_ids", List.of(key)));
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<String> acknowledged = new ArrayList<>();
        try {
            List<Future<Api.Resp>> sent = new ArrayList<>();
            sent.add(pool.submit(() -> api.post("/compute/containers", bodies.get(0))));
            try {
                sent.get(0).get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // reported below with the others
            }
            for (Map<String, Object> b : bodies.subList(1, bodies.size())) sent.add(pool.submit(() -> api.post("/compute/containers", b)));
            beforeKill.run();
            p.kill();
            for (Future<Api.Resp> f : sent) {
                try {
                    Api.Resp r = f.get(30, TimeUnit.SECONDS);
                    if (r.status() == 201) acknowledged.add(r.json().path("id").asText());
                } catch (java.util.concurrent.ExecutionException e) {
                    // the connection died with the platform: this create may or may not have been stored
                }
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.println("[itest] creates acknowledged before kill -9: " + acknowledged
                + "; engine containers then: " + Docker.managedNames(Docker.OWNER_LABEL, uid(api)));
        return acknowledged;
    }

    /**
     * After a restart: nothing stays pending or initializing (each container running, or failed with a reason),
     * every engine container and volume of the user belongs to a stored container, and every create answered 201
     * is still stored.
     */
    static void settledAndInAgreement(PlatformProcess p, Api api, List<String> acknowledged, List<String> volumesBefore) {
        String uid = uid(api);
        List<JsonNode> settled = Poll.until("every container to leave pending/initializing", Duration.ofSeconds(240),
                Duration.ofSeconds(1), () -> Fixtures.list(api),
                l -> l.stream().noneMatch(c -> List.of("pending", "initializing").contains(c.path("status").asText())));
        Set<String> stored = new HashSet<>();
        for (JsonNode c : settled) {
            stored.add(c.path("id").asText());
            String status = c.path("status").asText();
            assertTrue(status.equals("running") || (status.equals("failed") && !c.path("status_reason").asText().isBlank()),
                    "after recovery: " + c);
            if (status.equals("running")) assertEquals("running", Docker.state(Docker.name(c.path("id").asText())).orElse("gone"), c.toString());
        }
        System.out.println("[itest] after the restart: " + settled);
        assertTrue(stored.size() <= 3);
        // every engine container of this user belongs to a stored container (orphans removed after the grace window)
        List<String> expectedNames = stored.stream().map(Docker::name).sorted().toList();
        Poll.until("engine containers of " + uid + " to match the store " + expectedNames, CONVERGE, Duration.ofSeconds(1),
                () -> Docker.managedNames(Docker.OWNER_LABEL, uid).stream().sorted().toList(),
                names -> stored.containsAll(names.stream().map(n -> n.substring("ecloud-".length())).toList()));
        for (String name : Docker.managedNames(Docker.OWNER_LABEL, uid)) {
            assertTrue(stored.contains(Docker.idLabel(name)), "engine container " + name + " has no stored container");
        }
        // and no volume made since the kill is left for a container that neither the store nor the engine knows
        Path volumes = p.dataDir().resolve("volumes");
        Poll.until("volumes to belong to stored containers " + stored, CONVERGE, () -> volumeIds(volumes).stream()
                .filter(id -> !volumesBefore.contains(id)).toList(), v -> {
                    for (String id : v) if (!stored.contains(id) && !storedByAnyone(id)) return false;
                    return true;
                });
        // last, so that the checks above report on the recovery whatever happened here: a 201 is a promise
        assertTrue(stored.containsAll(acknowledged), "a create answered 201 was lost by kill -9: acknowledged "
                + acknowledged + ", stored after the restart " + stored);
        Fixtures.deleteAll(api);
    }

    static List<String> volumeIds(Path volumes) {
        if (!Files.isDirectory(volumes)) return List.of();
        try (Stream<Path> s = Files.list(volumes)) {
            return s.filter(Files::isDirectory).map(v -> v.getFileName().toString()).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Whether an engine container of that id exists (volumes of other tests' live containers are not orphans). */
    static boolean storedByAnyone(String id) {
        return Docker.exists(Docker.name(id));
    }

    @Test
    @Order(6)
    void dockerDaemonRestartBringsRunningContainersBack() {
        PlatformProcess p = platform.get();
        Api api = p.newUserApi("dockerd");
        String id = runningBusybox(api, "comeback");
        String name = Docker.name(id);
        // a stopped container stays stopped across the restart
        long key = Fixtures.addKey(api, "k2");
        String stoppedId = Fixtures.createBusybox(api, "stays-stopped", key).path("id").asText();
        Fixtures.awaitRunning(api, stoppedId);
        api.post("/compute/containers/" + stoppedId + "/stop").expect(200);

        restartDockerDaemon();

        Poll.until("the engine to run " + name + " again", CONVERGE, Duration.ofSeconds(1),
                () -> Docker.state(name).orElse("gone"), "running"::equals);
        JsonNode back = Poll.until("the API to show " + id + " running again", CONVERGE, Duration.ofSeconds(1),
                () -> Fixtures.get(api, id), c -> c.path("status").asText().equals("running"));
        assertEquals("running", back.path("status").asText());
        // still running a little later (not flapping), and the platform is ready again
        Poll.sleep(Duration.ofSeconds(6));
        assertEquals("running", Fixtures.get(api, id).path("status").asText());
        assertEquals("running", Docker.state(name).orElse("gone"));
        Poll.until("/readyz = 200 after the daemon restart", CONVERGE, () -> p.anonymous().get("/readyz").status(), s -> s == 200);
        assertEquals("stopped", Fixtures.get(api, stoppedId).path("status").asText());
        assertTrue(!Docker.state(Docker.name(stoppedId)).orElse("gone").equals("running"), "a stopped container was started by the restart");
        // the API works against the restarted engine
        api.post("/compute/containers/" + id + "/stop").expect(200);
        assertEquals("exited", Docker.state(name).orElseThrow());
        Fixtures.deleteAll(api);
    }

    /**
     * Stops dockerd (SIGTERM, SIGKILL after 30 s) and starts it again with scripts/host-services.sh, as an
     * operator would; always leaves a daemon that answers.
     */
    static void restartDockerDaemon() {
        Path pidFile = Path.of("/var/run/docker.pid");
        String pid;
        try {
            pid = Files.readString(pidFile).strip();
        } catch (IOException e) {
            throw new AssertionError("cannot read " + pidFile + ": is dockerd running here?", e);
        }
        Path script = Path.of(System.getProperty("ecloud.it.scripts", "../scripts"), "host-services.sh").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(script), script + " is missing");
        long t0 = System.nanoTime();
        try {
            Command.run(Duration.ofSeconds(10), List.of("kill", "-TERM", pid)).orFail();
            Path proc = Path.of("/proc", pid);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (Files.exists(proc) && System.nanoTime() < deadline) Poll.sleep(Duration.ofMillis(200));
            if (Files.exists(proc)) {
                Command.run(Duration.ofSeconds(10), List.of("kill", "-KILL", pid));
                Poll.sleep(Duration.ofSeconds(1));
            }
            System.out.println("[itest] dockerd " + pid + " stopped after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        } finally {
            Command.Result r = Command.run(Duration.ofSeconds(300), List.of("bash", script.toString(), "--no-postgres", "--no-registry"));
            if (!r.ok() || !Docker.answers()) {
                Command.Result retry = Command.run(Duration.ofSeconds(300), List.of("bash", script.toString(), "--no-postgres", "--no-registry"));
                if (!retry.ok()) throw new AssertionError("dockerd did not come back: " + r.describe() + "\n" + retry.describe());
            }
            System.out.println("[itest] dockerd back after " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + r.stdout().strip());
        }
    }
}
