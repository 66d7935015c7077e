package com.ecloud.compute.itest;

import static com.ecloud.compute.itest.harness.Api.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;
import com.ecloud.compute.itest.harness.Poll;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Refusals: each in the one JSON error shape with the right status, none changing anything (the user's
 * containers, keys, mounts, ingress rules, SSH flags and engine containers are compared before and after).
 */
class ErrorsIT {

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension();

    static String uid;
    static Api api;
    static long key;
    static String container;
    static String c;
    private String before;

    @BeforeAll
    static void user() {
        PlatformProcess p = platform.get();
        uid = p.newUser("errors");
        api = p.api(p.token(uid));
        key = Fixtures.addKey(api, "errors-key");
        container = Fixtures.createBusybox(api, "target", key).path("id").asText();
        c = "/compute/containers/" + container;
        Fixtures.awaitRunning(api, container);
    }

    /** Everything a refused request could have changed, without what changes on its own (status, usage). */
    static String snapshot() {
        ObjectNode s = Api.JSON.createObjectNode();
        var containers = s.putArray("containers");
        for (JsonNode x : Fixtures.list(api)) {
            ObjectNode copy = x.deepCopy();
            copy.remove(List.of("status", "status_reason", "memory_used_mb", "storage_used_gb"));
            String id = x.path("id").asText();
            copy.set("_ssh", api.get("/compute/containers/" + id + "/ssh").expect(200));
            copy.set("_mounts", api.get("/compute/containers/" + id + "/mounts").expect(200));
            copy.set("_ingress", api.get("/compute/containers/" + id + "/ingress").expect(200));
            containers.add(copy);
        }
        s.set("keys", api.get("/compute/ssh-keys").expect(200));
        var engine = s.putArray("engine");
        Docker.managedNames(Docker.OWNER_LABEL, uid).stream().sorted().forEach(engine::add);
        return s.toString();
    }

    @BeforeEach
    void remember() {
        before = snapshot();
    }

    @AfterEach
    void nothingChanged() {
        // a create that was wrongly accepted would show up here, possibly after provisioning began
        assertEquals(before, snapshot(), "a refused request changed something");
    }

    private static Api.Resp raw(String method, String path, String body) {
        return api.send(method, path, body == null ? null : body.getBytes(StandardCharsets.UTF_8), "application/json", Map.of());
    }

    private static Map<String, Object> createBody(Object... overrides) {
        Map<String, Object> b = obj("name", "refused", "instance_type", "tiny", "image", Fixtures.BUSYBOX, "ssh_key_ids", List.of(key));
        for (int i = 0; i < overrides.length; i += 2) b.put((String) overrides[i], overrides[i + 1]);
        return b;
    }

    @Test
    void unknownRoutesAre404Json() {
        api.get("/compute/nothing").expectError(404);
        api.get("/compute/containers/" + container + "/nothing").expectError(404);
        api.post("/compute/containers/" + container + "/reboot").expectError(404);
        api.get("/compute/containers/zzzzzzzz").expectError(404);
        api.get("/compute/containers/NOT-AN-ID").expectError(404);
        api.delete("/compute/containers/zzzzzzzz").expectError(404);
        api.post("/compute/containers/zzzzzzzz/start").expectError(404);
        api.delete("/compute/ssh-keys/999999").expectError(404);
        api.delete("/compute/ssh-keys/abc").expectError(404);
        api.delete(c + "/ingress/8080").expectError(404); // no such rule
        api.get("/compute").expectError(404);
        assertEquals(404, api.get("/nothing-here").status());
    }

    @Test
    void wrongMethodsAre405Json() {
        api.delete("/compute/containers").expectError(405);
        api.put("/compute/containers", createBody()).expectError(405);
        api.get(c + "/start").expectError(405);
        api.get(c + "/stop").expectError(405);
        api.post(c, createBody()).expectError(405);
        api.put("/compute/ssh-keys", obj("name", "x")).expectError(405);
        api.post("/compute/images", obj()).expectError(405);
        api.post(c + "/mounts", obj("mount_paths", List.of("/root"))).expectError(405);
        api.delete(c + "/ssh").expectError(405);
    }

    @Test
    void malformedJsonIs400() {
        for (String body : List.of("{\"name\":", "{name: 'x'}", "not json", "[1,2]", "\"a string\"", "42", "null", "",
                "{\"name\":\"x\",\"ssh_key_ids\":[" + key + "]} trailing", "{\"name\":\"x\",}")) {
            raw("POST", "/compute/containers", body).expectError(400);
        }
        raw("POST", "/compute/ssh-keys", "{\"name\":").expectError(400);
        raw("PUT", c + "/ssh", "{\"ssh_enabled\":").expectError(400);
        raw("PUT", c + "/mounts", "[\"/root\"]").expectError(400);
        raw("POST", c + "/ingress", "{port:8080}").expectError(400);
    }

    @Test
    void wrongTypesAre400WithoutCoercion() {
        api.post("/compute/containers", createBody("memory_mb", "512")).expectError(400);
        api.post("/compute/containers", createBody("storage_gb", "5")).expectError(400);
        api.post("/compute/containers", createBody("storage_gb", 5.5)).expectError(400);
        api.post("/compute/containers", createBody("memory_mb", 512.0)).expectError(400);
        api.post("/compute/containers", createBody("ssh_enabled", "true")).expectError(400);
        api.post("/compute/containers", createBody("ssh_enabled", 1)).expectError(400);
        api.post("/compute/containers", createBody("ssh_key_ids", List.of(String.valueOf(key)))).expectError(400);
        api.post("/compute/containers", createBody("ssh_key_ids", key)).expectError(400);
        api.post("/compute/containers", createBody("name", 123)).expectError(400);
        api.post("/compute/containers", createBody("instance_type", 1)).expectError(400);
        api.post("/compute/containers", createBody("mount_paths", "/root")).expectError(400);
        api.post("/compute/containers", createBody("mount_paths", List.of(1))).expectError(400);
        api.post("/compute/containers", createBody("image", List.of(Fixtures.BUSYBOX))).expectError(400);
        api.put(c + "/ssh", obj("ssh_enabled", "true")).expectError(400);
        api.put(c + "/ssh", obj("ssh_enabled", 0)).expectError(400);
        api.put(c + "/mounts", obj("mount_paths", "/root")).expectError(400);
        api.post(c + "/ingress", obj("port", "8080")).expectError(400);
        api.post(c + "/ingress", obj("port", 8080, "target_port", "80")).expectError(400);
        api.post("/compute/ssh-keys", obj("name", 5, "public_key", SshKeyLine.get())).expectError(400);
        api.post("/compute/ssh-keys", obj("name", "k", "public_key", List.of(SshKeyLine.get()))).expectError(400);
    }

    @Test
    void missingRequiredFieldsAre400() {
        api.post("/compute/containers", obj("ssh_key_ids", List.of(key))).expectError(400);
        api.post("/compute/containers", obj("name", "x")).expectError(400);
        api.post("/compute/containers", obj()).expectError(400);
        // null means absent: a required field given as null is missing
        api.post("/compute/containers", createBody("name", null)).expectError(400);
        api.post("/compute/containers", createBody("ssh_key_ids", null)).expectError(400);
        api.put(c + "/ssh", obj()).expectError(400);
        api.put(c + "/ssh", obj("ssh_enabled", null)).expectError(400);
        api.put(c + "/mounts", obj()).expectError(400);
        api.post(c + "/ingress", obj("target_port", 80)).expectError(400);
        api.post("/compute/ssh-keys", obj("name", "k")).expectError(400);
        api.post("/compute/ssh-keys", obj("public_key", SshKeyLine.get())).expectError(400);
    }

    @Test
    void valuesOutOfRangeAre422() {
        for (int m : new int[] {0, 127, 16385, -512, Integer.MAX_VALUE}) {
            api.post("/compute/containers", createBody("memory_mb", m)).expectError(422);
        }
        for (int s : new int[] {0, 101, -1}) {
            api.post("/compute/containers", createBody("storage_gb", s)).expectError(422);
        }
        String error = api.post("/compute/containers", createBody("memory_mb", 127)).expectError(422);
        assertTrue(error.contains("memory_mb"), "the error does not say which field: " + error);
        api.post("/compute/containers", createBody("instance_type", "huge")).expectError(422);
        api.post("/compute/containers", createBody("instance_type", "NANO")).expectError(422);
        api.post("/compute/containers", createBody("instance_type", "")).expectError(422);
        int emptyKeys = api.post("/compute/containers", createBody("ssh_key_ids", List.of())).status();
        assertTrue(emptyKeys == 400 || emptyKeys == 422, "empty ssh_key_ids answered " + emptyKeys);
        int unknownKey = api.post("/compute/containers", createBody("ssh_key_ids", List.of(987654321))).status();
        assertTrue(unknownKey == 404 || unknownKey == 422, "an unknown key id answered " + unknownKey);
    }

    @Test
    void badNamesAre400() {
        for (String name : List.of("", "a b", "x".repeat(64), "naïve", "semi;colon", "slash/name", "tab\tname", "new\nline")) {
            api.post("/compute/containers", createBody("name", name)).expectError(400);
        }
        // the edges that are valid are covered by ContainersIT; 63 characters is still a valid name
    }

    @Test
    void badMountPathsAre400() {
        for (String path : List.of("root", "relative/path", "/root/../etc", "/..", "/root/..", "/root//x", "/root/", "/root/./x", "./root")) {
            api.post("/compute/containers", createBody("mount_paths", List.of(path))).expectError(400);
            api.put(c + "/mounts", obj("mount_paths", List.of("/root", path))).expectError(400);
        }
        int empty = api.put(c + "/mounts", obj("mount_paths", List.of())).status();
        assertTrue(empty == 400 || empty == 422, "empty mount_paths answered " + empty);
    }

    @Test
    void badIngressPortsAre422() {
        for (int port : new int[] {22, 79, 81, 442, 444, 7999, 9000, 0, 65536, -1}) {
            api.post(c + "/ingress", obj("port", port)).expectError(422);
        }
        for (int target : new int[] {70000, 0, -1, 65536}) {
            api.post(c + "/ingress", obj("port", 8080, "target_port", target)).expectError(422);
        }
        api.delete(c + "/ingress/abc").expectError(400);
    }

    @Test
    void bodiesOverOneMebibyteAre413() {
        byte[] big = ("{\"name\":\"x\",\"ssh_key_ids\":[" + key + "],\"mount_paths\":[\"/a\"],\"pad\":\""
                + "a".repeat((1 << 20) + 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        String[][] targets = {{"POST", "/compute/containers"}, {"POST", "/compute/ssh-keys"}, {"PUT", c + "/mounts"},
            {"PUT", c + "/ssh"}, {"POST", c + "/ingress"}};
        for (String[] t : targets) {
            // each on its own connection: a 413 answered without reading the body must not poison the next request
            Api own = api.withOwnConnections();
            own.send(t[0], t[1], big, "application/json", Map.of()).expectError(413);
            try {
                // a POST: java.net.http retries an idempotent GET on a dead connection by itself, hiding the problem
                own.post("/compute/ssh-keys", obj("name", "follow-up", "public_key", "")).expectError(400);
            } catch (java.io.UncheckedIOException e) {
                throw new AssertionError("after the 413 of " + t[0] + " " + t[1] + " the server dropped the kept-alive "
                        + "connection without saying Connection: close; the next request on it failed: " + e.getMessage(), e);
            }
        }
        // just under the limit is read (and refused for what it says, not for its size)
        byte[] under = ("{\"name\":\"bad name\",\"ssh_key_ids\":[" + key + "],\"pad\":\"" + "a".repeat((1 << 20) - 2048) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        api.send("POST", "/compute/containers", under, "application/json", Map.of()).expectError(400);
    }

    @Test
    void nonJsonBodiesAre415() {
        byte[] body = Api.JSON.valueToTree(createBody()).toString().getBytes(StandardCharsets.UTF_8);
        api.send("POST", "/compute/containers", body, "text/plain", Map.of()).expectError(415);
        api.send("POST", "/compute/containers", body, "application/x-www-form-urlencoded", Map.of()).expectError(415);
        api.send("POST", "/compute/ssh-keys", body, "text/plain", Map.of()).expectError(415);
        api.send("PUT", c + "/ssh", "{\"ssh_enabled\":true}".getBytes(StandardCharsets.UTF_8), "text/plain", Map.of()).expectError(415);
        api.send("PUT", c + "/mounts", "{\"mount_paths\":[\"/srv\"]}".getBytes(StandardCharsets.UTF_8), "application/xml", Map.of()).expectError(415);
        api.send("POST", c + "/ingress", "{\"port\":8080}".getBytes(StandardCharsets.UTF_8), "text/plain", Map.of()).expectError(415);
    }

    @Test
    void unknownAndServerOwnedFieldsAreIgnored() {
        Instant sent = Instant.now().minusSeconds(5);
        Map<String, Object> body = createBody("name", "ignored-fields", "id", "hacked00", "status", "running",
                "https_enabled", true, "hostname", "evil.example", "created_at", "2000-01-01T00:00:00Z",
                "owner", "someone-else", "owner_id", "someone-else", "memory_used_mb", 1, "status_reason", "x",
                "ssh_command", "rm -rf /", "surprise", Map.of("nested", List.of(1, 2)));
        JsonNode created = api.post("/compute/containers", body).expect(201);
        String id = created.path("id").asText();
        try {
            assertNotEquals("hacked00", id);
            assertTrue(id.matches("[a-z0-9]{8}"), id);
            assertEquals("pending", created.path("status").asText());
            assertFalse(created.path("https_enabled").asBoolean());
            assertEquals(id + ".compute.localhost", created.path("hostname").asText());
            assertEquals("ssh -p 2222 " + id + "@localhost", created.path("ssh_command").asText());
            assertFalse(created.has("surprise"));
            assertTrue(OffsetDateTime.parse(created.path("created_at").asText()).toInstant().isAfter(sent),
                    "created_at taken from the request: " + created);
            api.get("/compute/containers/hacked00").expectError(404);
            JsonNode again = Fixtures.get(api, id);
            assertFalse(again.path("https_enabled").asBoolean());
            assertFalse(Fixtures.ids(platform.get().api(platform.get().token(platform.get().newUser("someone")))).contains(id));
            // unknown fields in the other bodies too
            api.put("/compute/containers/" + id + "/ssh", obj("ssh_enabled", false, "https_enabled", true, "x", 1)).expect(200);
            assertFalse(Fixtures.get(api, id).path("https_enabled").asBoolean());
        } finally {
            api.delete("/compute/containers/" + id).expect(200);
        }
    }

    @Test
    void nullMeansAbsent() {
        Map<String, Object> body = obj("name", "nulls", "ssh_key_ids", List.of(key), "instance_type", null, "memory_mb", null,
                "storage_gb", null, "ssh_enabled", null, "mount_paths", null, "image", null);
        JsonNode created = api.post("/compute/containers", body).expect(201);
        String id = created.path("id").asText();
        try {
            assertEquals("nano", created.path("instance_type").asText());
            assertEquals(512, created.path("memory_mb").asInt());
            assertEquals(5, created.path("storage_gb").asInt());
            assertFalse(created.path("ssh_enabled").asBoolean());
            assertEquals(List.of("/root"), Arrays.asList(Api.JSON.convertValue(
                    api.get("/compute/containers/" + id + "/mounts").expect(200).path("mount_paths"), String[].class)));
            api.post("/compute/containers/" + id + "/ingress", obj("port", 8080, "target_port", null)).expect(201);
            JsonNode rules = api.get("/compute/containers/" + id + "/ingress").expect(200).path("rules");
            assertEquals(8080, rules.get(0).path("target_port").asInt(), "target_port null should default to port: " + rules);
        } finally {
            api.delete("/compute/containers/" + id).expect(200);
            // the deleted container's engine objects go too
            Poll.until("engine container of " + id + " to be gone", Duration.ofSeconds(30),
                    () -> Docker.exists(Docker.name(id)), exists -> !exists);
        }
    }

    @Test
    void errorsNeverLeakInternals() {
        // Api checks every response for stack frames and class names; these are the likeliest to leak them
        List<Api.Resp> answers = new ArrayList<>();
        answers.add(raw("POST", "/compute/containers", "{\"name\":\"x\",\"memory_mb\":99999999999999999999}"));
        answers.add(raw("POST", "/compute/containers", "{\"name\":\"x\",\"memory_mb\":1e400}"));
        answers.add(raw("POST", "/compute/containers", "{\"name\":\"\\ud800\",\"ssh_key_ids\":[" + key + "]}"));
        answers.add(raw("POST", "/compute/containers", "{\"ssh_key_ids\":[99999999999999999999999]}"));
        answers.add(raw("POST", "/compute/containers", "{" + "\"a\":{".repeat(3000) + "}".repeat(3000) + "}"));
        answers.add(raw("POST", "/compute/containers", "\u0000\u0001"));
        answers.add(api.send("POST", "/compute/containers", "{}".getBytes(StandardCharsets.UTF_8), "application/json; charset=ebcdic", Map.of()));
        answers.add(raw("DELETE", "/compute/ssh-keys/99999999999999999999999", null));
        answers.add(raw("DELETE", c + "/ingress/99999999999999999999", null));
        for (Api.Resp r : answers) {
            assertTrue(r.status() >= 400 && r.status() < 500, "expected a 4xx: " + r);
            r.expectError(r.status());
        }
    }

    @Test
    void refusalsOfTheHttpServerUnderComputeAreJsonToo() {
        // what Jetty refuses before any resource runs: still the one JSON error shape under /compute
        List<Api.Resp> answers = new ArrayList<>();
        answers.add(api.get("/compute/containers/%00"));
        answers.add(api.get("/compute/containers/..%2f..%2fetc"));
        answers.add(api.send("GET", "/compute/containers", null, null, Map.of("X-Big", "a".repeat(70_000))));
        List<String> wrong = new ArrayList<>();
        for (Api.Resp r : answers) {
            try {
                assertTrue(r.status() >= 400 && r.status() < 500, "expected a 4xx: " + r);
                r.expectError(r.status());
            } catch (AssertionError e) {
                wrong.add(e.getMessage().lines().findFirst().orElse("") + " [" + r.status() + " "
                        + r.headers().firstValue("Content-Type").orElse("") + "]");
            }
        }
        assertTrue(wrong.isEmpty(), "not in the JSON error shape:\n" + String.join("\n", wrong));
    }

    @Test
    void aBodyNothingReadsLeavesTheConnectionUsable() throws Exception {
        // The headers go first and the body a moment later, as many clients write them: refused or ignored
        // before its body arrives, the request must still leave the kept-alive connection open for the next.
        PlatformProcess p = platform.get();
        String token = p.token(uid);
        String[][] requests = {{"POST", "/compute/images"}, {"POST", c + "/mounts"},
                {"POST", c + "/reboot"}, {"POST", "/compute/containers/zzzzzzzz/start"}, {"GET", "/compute/ssh-keys"}};
        int[] expected = {405, 405, 404, 404, 200};
        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), p.port())) {
            socket.setSoTimeout(10_000);
            var out = socket.getOutputStream();
            var in = new java.io.BufferedInputStream(socket.getInputStream());
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < requests.length; i++) {
                    byte[] body = "{\"mount_paths\":[\"/root\"]}".getBytes(StandardCharsets.UTF_8);
                    out.write((requests[i][0] + " " + requests[i][1] + " HTTP/1.1\r\nHost: localhost\r\n"
                            + "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\n"
                            + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread.sleep(100);
                    out.write(body);
                    out.flush();
                    String head = readHead(in);
                    assertTrue(head.startsWith("HTTP/1.1 " + expected[i] + " "), requests[i][1] + ": " + head);
                    assertFalse(head.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), head);
                    in.readNBytes(contentLength(head));
                }
            }
        }
    }

    private static String readHead(java.io.InputStream in) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new java.io.EOFException("connection closed after: " + head);
            head.append((char) b);
        }
        return head.toString();
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        throw new AssertionError("no Content-Length: " + head);
    }

    /** One valid public key line, made once. */
    static final class SshKeyLine {
        private static String line;

        static synchronized String get() {
            if (line == null) line = com.ecloud.compute.itest.harness.SshKeys.ed25519("errors@itest");
            return line;
        }
    }
}
