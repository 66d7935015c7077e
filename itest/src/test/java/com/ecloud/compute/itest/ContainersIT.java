package com.ecloud.compute.itest;

import static com.ecloud.compute.itest.harness.Api.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Command;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Engines;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.Poll;
import com.ecloud.compute.itest.harness.SshKeys;
import com.fasterxml.jackson.databind.JsonNode;

/** Real containers through the API, checked against what the Docker engine runs. */
class ContainersIT {

    static final String REGISTRY = "127.0.0.1:5000";
    static final String SAMPLE = REGISTRY + "/samples/busybox:1.0";
    static final List<String> CONTRACT_FIELDS = List.of("id", "name", "status", "hostname", "memory_mb", "memory_used_mb",
            "storage_gb", "storage_used_gb", "instance_type", "created_at", "ssh_enabled", "https_enabled", "ssh_command");
    static final List<String> STATUSES = List.of("pending", "initializing", "running", "stopped", "failed");

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension();

    /** Every field of the contract, with the right JSON types; status_reason when failed. */
    static void assertContainerShape(JsonNode c) {
        for (String f : CONTRACT_FIELDS) assertTrue(c.has(f), () -> "container lacks " + f + ": " + c);
        String id = c.path("id").asText();
        assertTrue(id.matches("[a-z0-9]{8}"), () -> "id is not 8 characters of [a-z0-9]: " + c);
        assertTrue(c.path("name").isTextual(), c::toString);
        assertTrue(STATUSES.contains(c.path("status").asText()), () -> "unknown status: " + c);
        assertEquals(id + ".compute.localhost", c.path("hostname").asText());
        assertEquals("ssh -p 2222 " + id + "@localhost", c.path("ssh_command").asText());
        assertTrue(c.path("memory_mb").isIntegralNumber() && c.path("storage_gb").isIntegralNumber(), c::toString);
        assertTrue(c.path("memory_used_mb").isNumber() && c.path("storage_used_gb").isNumber(), c::toString);
        assertTrue(c.path("ssh_enabled").isBoolean() && c.path("https_enabled").isBoolean(), c::toString);
        OffsetDateTime.parse(c.path("created_at").asText()); // RFC 3339
        if (c.path("status").asText().equals("failed")) {
            assertTrue(c.path("status_reason").isTextual() && !c.path("status_reason").asText().isBlank(),
                    () -> "failed without status_reason: " + c);
        }
    }

    static String quota(String name) {
        return Docker.execOk(name, "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
    }

    static long memoryLimit(String name) {
        return Long.parseLong(Docker.execOk(name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"));
    }

    @Test
    void defaultPathRunsDebianOnArm64WithItsLimits() {
        Api api = platform.get().newUserApi("default");
        String keyLine = SshKeys.ed25519("default@itest");
        long key = api.post("/compute/ssh-keys", obj("name", "laptop", "public_key", keyLine)).expect(201).path("id").asLong();
        Instant before = Instant.now().minusSeconds(2);

        Api.Resp resp = api.post("/compute/containers", obj("name", "my-app", "ssh_key_ids", List.of(key)));
        JsonNode c = resp.expect(201);
        assertContainerShape(c);
        String id = c.path("id").asText();
        assertEquals("my-app", c.path("name").asText());
        assertEquals("pending", c.path("status").asText());
        assertEquals(512, c.path("memory_mb").asInt());
        assertEquals(5, c.path("storage_gb").asInt());
        assertEquals("nano", c.path("instance_type").asText());
        assertFalse(c.path("ssh_enabled").asBoolean());
        assertFalse(c.path("https_enabled").asBoolean());
        Instant created = OffsetDateTime.parse(c.path("created_at").asText()).toInstant();
        assertTrue(!created.isBefore(before) && created.isBefore(Instant.now().plusSeconds(2)), "created_at " + created);
        assertEquals(List.of(id), Fixtures.ids(api));
        api.get("/compute/containers").expect(200).path("containers").forEach(ContainersIT::assertContainerShape);

        JsonNode running = Fixtures.awaitRunning(api, id);
        assertContainerShape(running);
        assertEquals(c.path("created_at"), running.path("created_at"));
        String name = Docker.name(id);
        assertEquals("running", Docker.state(name).orElseThrow());
        assertEquals("aarch64", Docker.execOk(name, "uname", "-m"));
        assertEquals("50000", quota(name));
        assertEquals(512L << 20, memoryLimit(name));
        String keys = Docker.execOk(name, "cat", "/root/.ssh/authorized_keys");
        assertTrue(keys.contains(keyLine.split(" ")[1]), "authorized_keys: " + keys);
        // Debian (Base) is what runs: its os-release and the tools the issue lists
        assertTrue(Docker.execOk(name, "cat", "/etc/os-release").contains("bookworm"));
        Docker.execOk(name, "bash", "-c", "command -v ps && command -v ip && command -v curl");

        // labels tie the engine object to the platform's ids; the container is hardened
        assertEquals(id, Docker.idLabel(name));
        assertEquals("true", Docker.inspect(name, "{{index .Config.Labels \"" + Docker.MANAGED_LABEL + "\"}}").orElseThrow());
        assertEquals("false", Docker.inspect(name, "{{.HostConfig.Privileged}}").orElseThrow());
        assertTrue(Docker.inspect(name, "{{json .HostConfig.SecurityOpt}}").orElseThrow().contains("no-new-privileges"),
                "no-new-privileges is not set");
        long pids = Long.parseLong(Docker.inspect(name, "{{.HostConfig.PidsLimit}}").orElseThrow());
        assertTrue(pids > 0, "no pids limit");
        assertEquals("true", Docker.inspect(name, "{{.HostConfig.Init}}").orElseThrow(), "PID 1 is not the engine's init");
        assertFalse(Docker.inspect(name, "{{json .Mounts}}").orElseThrow().contains("docker.sock"));

        // usage is measured for real
        JsonNode measured = Poll.until("memory_used_mb > 0", Duration.ofSeconds(20), () -> Fixtures.get(api, id),
                j -> j.path("memory_used_mb").asDouble() > 0);
        assertTrue(measured.path("memory_used_mb").asDouble() <= 512, measured.toString());
    }

    @Test
    void instanceTypesSetArchAndCpuQuota() {
        Api amd = platform.get().newUserApi("amd64");
        long key = Fixtures.addKey(amd, "k");
        Map<String, String[]> expected = Map.of("tiny", new String[] {"x86_64", "100000"},
                "small", new String[] {"x86_64", "200000"}, "medium", new String[] {"x86_64", "400000"});
        Map<String, String> ids = new java.util.LinkedHashMap<>();
        for (String type : List.of("tiny", "small", "medium")) {
            Map<String, Object> body = obj("name", "busy-" + type, "instance_type", type, "image", Fixtures.BUSYBOX, "ssh_key_ids", List.of(key));
            if (type.equals("tiny")) body.put("memory_mb", 256);
            JsonNode c = Fixtures.create(amd, body);
            assertEquals(type, c.path("instance_type").asText());
            ids.put(type, c.path("id").asText());
        }
        Api arm = platform.get().newUserApi("arm64");
        long armKey = Fixtures.addKey(arm, "k");
        Map<String, String> armIds = new java.util.LinkedHashMap<>();
        for (String type : List.of("micro", "mini")) {
            armIds.put(type, Fixtures.create(arm, obj("name", "busy-" + type, "instance_type", type, "image", Fixtures.BUSYBOX,
                    "memory_mb", 128, "ssh_key_ids", List.of(armKey))).path("id").asText());
        }
        for (Map.Entry<String, String> e : ids.entrySet()) {
            Fixtures.awaitRunning(amd, e.getValue());
            String name = Docker.name(e.getValue());
            assertEquals(expected.get(e.getKey())[0], Docker.execOk(name, "uname", "-m"), e.getKey());
            assertEquals(expected.get(e.getKey())[1], quota(name), e.getKey());
            assertEquals((e.getKey().equals("tiny") ? 256L : 512L) << 20, memoryLimit(name), e.getKey());
        }
        Map<String, String> armQuota = Map.of("micro", "100000", "mini", "200000");
        for (Map.Entry<String, String> e : armIds.entrySet()) {
            Fixtures.awaitRunning(arm, e.getValue());
            String name = Docker.name(e.getValue());
            assertEquals("aarch64", Docker.execOk(name, "uname", "-m"), e.getKey());
            assertEquals(armQuota.get(e.getKey()), quota(name), e.getKey());
            assertEquals(128L << 20, memoryLimit(name), e.getKey());
        }
        Fixtures.deleteAll(amd);
        Fixtures.deleteAll(arm);
    }

    @Test
    void stopStartAndDeleteFollowTheEngine() {
        Api api = platform.get().newUserApi("lifecycle");
        long key = Fixtures.addKey(api, "k");
        String id = Fixtures.createBusybox(api, "cycle", key).path("id").asText();
        String name = Docker.name(id);
        Fixtures.awaitRunning(api, id);
        String engineId = Docker.inspect(name, "{{.Id}}").orElseThrow();
        Docker.execOk(name, "sh", "-c", "echo kept > /tmp/marker");

        JsonNode stopped = api.post("/compute/containers/" + id + "/stop").expect(200);
        assertContainerShape(stopped);
        assertEquals("stopped", stopped.path("status").asText(), "stop returned " + stopped);
        assertEquals("exited", Docker.state(name).orElseThrow(), "the engine still runs a stopped container");
        assertEquals("stopped", Fixtures.get(api, id).path("status").asText());
        JsonNode again = api.post("/compute/containers/" + id + "/stop").expect(200);
        assertEquals("stopped", again.path("status").asText());

        JsonNode started = api.post("/compute/containers/" + id + "/start").expect(200);
        assertContainerShape(started);
        assertTrue(List.of("pending", "initializing", "running").contains(started.path("status").asText()), started.toString());
        assertEquals("pending", started.path("status").asText(), "the contract says start returns the container pending");
        Fixtures.awaitRunning(api, id);
        assertEquals("running", Docker.state(name).orElseThrow());
        // stop/start keeps the engine's container and its writable layer
        assertEquals(engineId, Docker.inspect(name, "{{.Id}}").orElseThrow(), "start re-created the engine container");
        assertEquals("kept", Docker.execOk(name, "cat", "/tmp/marker"));

        JsonNode startedAgain = api.post("/compute/containers/" + id + "/start").expect(200);
        assertEquals("running", startedAgain.path("status").asText(), "start of a running container: " + startedAgain);

        JsonNode ok = api.delete("/compute/containers/" + id).expect(200);
        assertEquals("ok", ok.path("status").asText());
        api.get("/compute/containers/" + id).expectError(404);
        api.delete("/compute/containers/" + id).expectError(404);
        assertFalse(Fixtures.ids(api).contains(id));
        assertFalse(Docker.exists(name), "the engine container survived the delete");
        assertTrue(Docker.run("ps", "-a", "-q", "--filter", "label=" + Docker.ID_LABEL + "=" + id).orFail().isBlank());
        assertTrue(mountsOf(id).isEmpty(), "the volume of a deleted container is still mounted: " + mountsOf(id));
        assertFalse(Files.exists(platform.get().dataDir().resolve("volumes").resolve(id)), "the volume of a deleted container is left");
    }

    static List<String> mountsOf(String id) {
        try {
            return Files.readAllLines(Path.of("/proc/self/mounts")).stream().filter(l -> l.contains("/volumes/" + id)).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void deleteRightAfterCreateCancelsProvisioning() {
        Api api = platform.get().newUserApi("cancel");
        long key = Fixtures.addKey(api, "k");
        List<String> ids = new ArrayList<>();
        // the default (Debian on arm64, the slowest to provision) and a fast one
        ids.add(Fixtures.create(api, obj("name", "cancel-default", "ssh_key_ids", List.of(key))).path("id").asText());
        ids.add(Fixtures.createBusybox(api, "cancel-fast", key).path("id").asText());
        for (String id : ids) {
            JsonNode ok = api.delete("/compute/containers/" + id).expect(200);
            assertEquals("ok", ok.path("status").asText());
            api.get("/compute/containers/" + id).expectError(404);
        }
        assertTrue(Fixtures.ids(api).isEmpty());
        // nothing comes back in the engine: watched for a while, after provisioning would have finished
        long until = System.nanoTime() + Duration.ofSeconds(12).toNanos();
        while (System.nanoTime() < until) {
            for (String id : ids) {
                assertFalse(Docker.exists(Docker.name(id)), "the engine container of deleted " + id + " exists");
                assertTrue(mountsOf(id).isEmpty(), "the volume of deleted " + id + " is mounted");
            }
            Poll.sleep(Duration.ofSeconds(1));
        }
        // and the quota is free again
        for (int i = 0; i < 3; i++) Fixtures.createBusybox(api, "after" + i, key);
        Fixtures.deleteAll(api);
    }

    @Test
    void fourthContainerIs409() {
        Api api = platform.get().newUserApi("quota");
        long key = Fixtures.addKey(api, "k");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) ids.add(Fixtures.createBusybox(api, "q" + i, key).path("id").asText());
        String error = api.post("/compute/containers", obj("name", "q3", "instance_type", "tiny", "image", Fixtures.BUSYBOX,
                "ssh_key_ids", List.of(key))).expectError(409);
        assertTrue(error.contains("3"), "the limit is not named: " + error);
        assertEquals(3, Fixtures.ids(api).size());
        api.delete("/compute/containers/" + ids.get(0)).expect(200);
        Fixtures.createBusybox(api, "q4", key);
        api.post("/compute/containers", obj("name", "q5", "instance_type", "tiny", "image", Fixtures.BUSYBOX,
                "ssh_key_ids", List.of(key))).expectError(409);
        // another user is not limited by this one
        Api other = platform.get().newUserApi("quota2");
        Fixtures.createBusybox(other, "mine", Fixtures.addKey(other, "k"));
        Fixtures.deleteAll(other);
        Fixtures.deleteAll(api);
    }

    @Test
    void twentyConcurrentCreatesLeaveExactlyThree() throws Exception {
        Api api = platform.get().newUserApi("race");
        long key = Fixtures.addKey(api, "k");
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            List<Callable<Api.Resp>> calls = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Map<String, Object> body = obj("name", "race" + i, "instance_type", "tiny", "image", Fixtures.BUSYBOX, "ssh_key_ids", List.of(key));
                calls.add(() -> api.post("/compute/containers", body));
            }
            int created = 0, refused = 0;
            List<String> createdIds = new ArrayList<>();
            for (Future<Api.Resp> f : pool.invokeAll(calls)) {
                Api.Resp r = f.get();
                if (r.status() == 201) {
                    created++;
                    createdIds.add(r.json().path("id").asText());
                } else {
                    r.expectError(409);
                    refused++;
                }
            }
            assertEquals(3, created, "201s");
            assertEquals(17, refused, "409s");
            assertEquals(createdIds.stream().sorted().toList(), Fixtures.ids(api).stream().sorted().toList());
            // the engine ends up with exactly those three
            for (String id : createdIds) Fixtures.awaitRunning(api, id);
            assertEquals(createdIds.stream().map(Docker::name).sorted().toList(),
                    Docker.managedNames(Docker.OWNER_LABEL, ownerOf(api)).stream().sorted().toList());
        } finally {
            pool.shutdownNow();
            Fixtures.deleteAll(api);
        }
    }

    static String ownerOf(Api api) {
        return com.ecloud.compute.itest.harness.Jwts.claims(api.token()).path("sub").asText();
    }

    @Test
    void mountsSurviveReCreation() {
        Api api = platform.get().newUserApi("mounts");
        long key = Fixtures.addKey(api, "k");
        // Debian on amd64: native speed, and a real /root
        String id = Fixtures.create(api, obj("name", "mounts", "instance_type", "tiny", "ssh_key_ids", List.of(key))).path("id").asText();
        String name = Docker.name(id);
        String m = "/compute/containers/" + id + "/mounts";
        assertEquals(List.of("/root"), strings(api.get(m).expect(200).path("mount_paths")));
        Fixtures.awaitRunning(api, id);
        Docker.execOk(name, "sh", "-c", "echo persisted > /root/x");

        JsonNode put = api.put(m, obj("mount_paths", List.of("/root", "/data"))).expect(200);
        assertEquals(List.of("/root", "/data"), strings(put.path("mount_paths")));
        assertTrue(put.path("restarted").asBoolean(), "a running container was not restarted: " + put);
        assertEquals(List.of("/root", "/data"), strings(api.get(m).expect(200).path("mount_paths")));
        Fixtures.awaitRunning(api, id);
        Poll.until("the re-created container to run", Duration.ofSeconds(60), () -> Docker.state(name).orElse("gone"), "running"::equals);
        assertEquals("persisted", Docker.execOk(name, "cat", "/root/x"), "the file in /root did not survive");
        assertTrue(isMountPoint(name, "/data"), "/data is not a mount: " + Docker.execOk(name, "cat", "/proc/mounts"));
        assertTrue(isMountPoint(name, "/root"), "/root is not a mount");
        Docker.execOk(name, "sh", "-c", "echo on-data > /data/y");

        // a stopped container is not restarted, and gets its new paths when it starts
        api.post("/compute/containers/" + id + "/stop").expect(200);
        JsonNode stoppedPut = api.put(m, obj("mount_paths", List.of("/root", "/data", "/srv"))).expect(200);
        assertFalse(stoppedPut.path("restarted").asBoolean(), "a stopped container was restarted: " + stoppedPut);
        assertEquals("stopped", Fixtures.get(api, id).path("status").asText());
        assertNotEquals("running", Docker.state(name).orElse("gone"));
        api.post("/compute/containers/" + id + "/start").expect(200);
        Fixtures.awaitRunning(api, id);
        assertTrue(isMountPoint(name, "/srv"), "/srv is not a mount after start");
        assertEquals("persisted", Docker.execOk(name, "cat", "/root/x"));
        assertEquals("on-data", Docker.execOk(name, "cat", "/data/y"));
        api.delete("/compute/containers/" + id).expect(200);
    }

    static boolean isMountPoint(String name, String path) {
        return Docker.execOk(name, "cat", "/proc/mounts").lines().anyMatch(l -> l.split(" ")[1].equals(path));
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void sshToggleAndIngressRules() {
        Api api = platform.get().newUserApi("toggles");
        long key = Fixtures.addKey(api, "k");
        String id = Fixtures.createBusybox(api, "toggles", key).path("id").asText();
        String c = "/compute/containers/" + id;

        assertEquals(false, api.get(c + "/ssh").expect(200).path("ssh_enabled").asBoolean());
        JsonNode on = api.put(c + "/ssh", obj("ssh_enabled", true)).expect(200);
        assertEquals(Api.JSON.createObjectNode().put("ssh_enabled", true), on);
        assertTrue(api.get(c + "/ssh").expect(200).path("ssh_enabled").asBoolean());
        assertTrue(Fixtures.get(api, id).path("ssh_enabled").asBoolean());
        assertEquals(false, api.put(c + "/ssh", obj("ssh_enabled", false)).expect(200).path("ssh_enabled").asBoolean());
        assertFalse(Fixtures.get(api, id).path("ssh_enabled").asBoolean());

        assertEquals(0, api.get(c + "/ingress").expect(200).path("rules").size());
        long t0 = Instant.now().getEpochSecond() - 2;
        JsonNode rule = api.post(c + "/ingress", obj("port", 8080, "target_port", 3000)).expect(201);
        assertTrue(rule.path("id").isIntegralNumber(), rule.toString());
        assertEquals(8080, rule.path("port").asInt());
        assertEquals(3000, rule.path("target_port").asInt());
        assertTrue(rule.path("created_at").isIntegralNumber() && rule.path("created_at").asLong() >= t0
                && rule.path("created_at").asLong() <= Instant.now().getEpochSecond() + 2, "created_at is not unix seconds: " + rule);
        assertFalse(Fixtures.get(api, id).path("https_enabled").asBoolean());

        JsonNode https = api.post(c + "/ingress", obj("port", 443)).expect(201);
        assertEquals(443, https.path("target_port").asInt(), "target_port defaults to port");
        assertTrue(Fixtures.get(api, id).path("https_enabled").asBoolean(), "a rule on 443 did not enable https");
        api.post(c + "/ingress", obj("port", 8080, "target_port", 9999)).expectError(409);
        api.post(c + "/ingress", obj("port", 80)).expect(201);
        api.post(c + "/ingress", obj("port", 8999, "target_port", 65535)).expect(201);
        JsonNode rules = api.get(c + "/ingress").expect(200).path("rules");
        assertEquals(4, rules.size(), rules.toString());
        assertEquals(List.of(80, 443, 8080, 8999),
                java.util.stream.StreamSupport.stream(rules.spliterator(), false).map(r -> r.path("port").asInt()).sorted().toList());

        assertEquals("ok", api.delete(c + "/ingress/443").expect(200).path("status").asText());
        assertFalse(Fixtures.get(api, id).path("https_enabled").asBoolean(), "removing the 443 rule left https on");
        api.delete(c + "/ingress/443").expectError(404);
        api.delete(c + "/ingress/8080").expect(200);
        assertEquals(2, api.get(c + "/ingress").expect(200).path("rules").size());
        // the rules go with their container
        api.delete(c).expect(200);
        api.get(c + "/ingress").expectError(404);
    }

    static boolean registryHasSample() {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://" + REGISTRY + "/v2/samples/busybox/tags/list")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("\"1.0\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void imagesListBuiltinsAndTheRegistry() {
        boolean sample = registryHasSample();
        if (!sample) {
            String why = "the internal registry has no " + SAMPLE + " (scripts/host-services.sh, scripts/build-images.sh)";
            if (Engines.required()) throw new AssertionError(why);
            Assumptions.abort(why);
        }
        Api api = platform.get().newUserApi("images");
        long key = Fixtures.addKey(api, "k");
        JsonNode images = api.get("/compute/images").expect(200);
        assertTrue(images.isArray(), "GET /compute/images is not an array: " + images);
        for (JsonNode i : images) {
            assertTrue(i.path("name").isTextual() && i.path("image").isTextual(), i.toString());
            assertTrue(List.of("builtin", "registry").contains(i.path("source").asText()), i.toString());
            assertFalse(i.path("image").asText().matches(".*-(amd64|arm64)$"), "an engine variant is listed: " + i);
        }
        assertTrue(contains(images, "Debian (Base)", Fixtures.DEBIAN, "builtin"), images.toString());
        assertEquals(Fixtures.DEBIAN, images.get(0).path("image").asText(), "the default image is not listed first");
        assertTrue(java.util.stream.StreamSupport.stream(images.spliterator(), false)
                .anyMatch(i -> i.path("image").asText().equals(Fixtures.BUSYBOX) && i.path("source").asText().equals("builtin")), images.toString());
        assertTrue(java.util.stream.StreamSupport.stream(images.spliterator(), false)
                .anyMatch(i -> i.path("image").asText().equals(SAMPLE) && i.path("source").asText().equals("registry")), images.toString());
        assertEquals(1, java.util.stream.StreamSupport.stream(images.spliterator(), false)
                .filter(i -> i.path("image").asText().equals(Fixtures.DEBIAN)).count(), "a builtin is listed more than once");

        // amd64-only registry image: refused on arm64, runs on amd64
        String noArm = api.post("/compute/containers", obj("name", "sample-arm", "instance_type", "nano", "image", SAMPLE,
                "ssh_key_ids", List.of(key))).expectError(422);
        assertTrue(noArm.contains("arm64"), "422 does not say the arch is missing: " + noArm);
        api.post("/compute/containers", obj("name", "sample-arm", "image", SAMPLE, "ssh_key_ids", List.of(key))).expectError(422);
        for (String bad : List.of("127.0.0.1:5000.evil.example/x:y", "evil.example/127.0.0.1:5000/samples/busybox:1.0",
                "docker.io/library/busybox:latest", "busybox", "busybox:latest", REGISTRY + "/samples/missing:1.0",
                REGISTRY + "/samples/busybox", "ecloud/debian:bookworm-amd64", "ecloud/busybox:latest-arm64", "127.0.0.1:5001/samples/busybox:1.0")) {
            api.post("/compute/containers", obj("name", "bad-image", "instance_type", "tiny", "image", bad,
                    "ssh_key_ids", List.of(key))).expectError(422);
        }
        assertTrue(Fixtures.ids(api).isEmpty(), "a refused image left a container");
        JsonNode c = Fixtures.create(api, obj("name", "sample", "instance_type", "tiny", "image", SAMPLE, "ssh_key_ids", List.of(key)));
        String id = c.path("id").asText();
        Fixtures.awaitRunning(api, id);
        assertEquals("x86_64", Docker.execOk(Docker.name(id), "uname", "-m"));
        assertTrue(Docker.inspect(Docker.name(id), "{{.Config.Image}}").orElseThrow().contains("samples/busybox"));
        api.delete("/compute/containers/" + id).expect(200);
        // and the busybox builtin runs on arm64 too (one reference, both arches)
        String armBusy = Fixtures.create(api, obj("name", "busy-arm", "instance_type", "nano", "image", Fixtures.BUSYBOX,
                "memory_mb", 128, "ssh_key_ids", List.of(key))).path("id").asText();
        Fixtures.awaitRunning(api, armBusy);
        assertEquals("aarch64", Docker.execOk(Docker.name(armBusy), "uname", "-m"));
        api.delete("/compute/containers/" + armBusy).expect(200);
    }

    static boolean contains(JsonNode images, String name, String image, String source) {
        for (JsonNode i : images) {
            if (i.path("name").asText().equals(name) && i.path("image").asText().equals(image) && i.path("source").asText().equals(source)) return true;
        }
        return false;
    }

    @Test
    void storageIsCappedOnVolumeAndOwnFilesystem() {
        Api api = platform.get().newUserApi("storage");
        long key = Fixtures.addKey(api, "k");
        String id = Fixtures.create(api, obj("name", "small-disk", "instance_type", "tiny", "image", Fixtures.BUSYBOX,
                "storage_gb", 1, "ssh_key_ids", List.of(key))).path("id").asText();
        String name = Docker.name(id);
        Fixtures.awaitRunning(api, id);

        // the mount paths live on a 1 GiB volume: writing past it fails inside the container
        Command.Result full = Docker.exec(name, "sh", "-c", "dd if=/dev/zero of=/root/big bs=1M count=1300 2>&1; sync");
        assertTrue(full.stdout().contains("No space left on device"), "1300 MiB fit into a 1 GiB volume: " + full.describe());
        Docker.execOk(name, "rm", "-f", "/root/big");
        assertEquals("running", Fixtures.get(api, id).path("status").asText());

        // its own filesystem (outside the mount paths) is measured: going over storage_gb stops it
        CompletableFuture<Command.Result> fill = CompletableFuture.supplyAsync(() ->
                Docker.run(Duration.ofMinutes(5), "exec", name, "sh", "-c", "dd if=/dev/zero of=/tmp/fill bs=1M count=1536; sync"));
        JsonNode stopped = Poll.until("the container over its storage to be stopped", Duration.ofSeconds(120), Duration.ofSeconds(1),
                () -> Fixtures.get(api, id), j -> !j.path("status").asText().equals("running"));
        assertEquals("stopped", stopped.path("status").asText(), stopped.toString());
        String reason = stopped.path("status_reason").asText();
        assertTrue(reason.toLowerCase().contains("storage"), "status_reason does not mention storage: " + stopped);
        assertNotEquals("running", Docker.state(name).orElse("gone"));
        fill.join();
        api.delete("/compute/containers/" + id).expect(200);
    }
}
