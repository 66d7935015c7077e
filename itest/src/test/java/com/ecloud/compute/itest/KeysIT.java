package com.ecloud.compute.itest;

import static com.ecloud.compute.itest.harness.Api.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.Poll;
import com.ecloud.compute.itest.harness.SshKeys;
import com.fasterxml.jackson.databind.JsonNode;

/** /compute/ssh-keys: real keys of every accepted type, refusals, limits, and revocation inside containers. */
class KeysIT {

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension();

    private static List<JsonNode> keys(Api api) {
        List<JsonNode> all = new ArrayList<>();
        api.get("/compute/ssh-keys").expect(200).path("ssh_keys").forEach(all::add);
        return all;
    }

    @Test
    void addsListsAndDeletesKeysOfEveryAcceptedType() {
        Api api = platform.get().newUserApi("keys");
        Map<Long, String> added = new HashMap<>();
        String[][] types = {{"ed25519", "0"}, {"rsa", "2048"}, {"rsa", "4096"}, {"ecdsa", "256"}, {"ecdsa", "384"}, {"ecdsa", "521"}};
        for (String[] t : types) {
            String line = SshKeys.generate(t[0], Integer.parseInt(t[1]), t[0] + t[1] + "@itest");
            String name = "laptop " + t[0] + "-" + t[1];
            JsonNode k = api.post("/compute/ssh-keys", obj("name", name, "public_key", line)).expect(201);
            assertTrue(k.path("id").isIntegralNumber(), "key id is not an integer: " + k);
            assertEquals(name, k.path("name").asText());
            assertEquals(line, k.path("public_key").asText());
            OffsetDateTime.parse(k.path("created_at").asText()); // RFC 3339
            added.put(k.path("id").asLong(), line);
        }
        assertEquals(types.length, added.size(), "key ids are not distinct");
        List<JsonNode> listed = keys(api);
        assertEquals(types.length, listed.size());
        for (JsonNode k : listed) assertEquals(added.get(k.path("id").asLong()), k.path("public_key").asText(), "listed: " + k);

        long doomed = listed.get(0).path("id").asLong();
        JsonNode ok = api.delete("/compute/ssh-keys/" + doomed).expect(200);
        assertEquals("ok", ok.path("status").asText());
        assertEquals(1, ok.size(), "delete answers more than {\"status\":\"ok\"}: " + ok);
        assertEquals(types.length - 1, keys(api).size());
        assertFalse(keys(api).stream().anyMatch(k -> k.path("id").asLong() == doomed));
        api.delete("/compute/ssh-keys/" + doomed).expectError(404);
        api.delete("/compute/ssh-keys/987654321").expectError(404);
        // a deleted key can be added again
        api.post("/compute/ssh-keys", obj("name", "again", "public_key", added.get(doomed))).expect(201);
    }

    @Test
    void invalidKeysAreRefused() {
        Api api = platform.get().newUserApi("badkeys");
        String good = SshKeys.ed25519("good@itest");
        String[] parts = good.split(" ");
        List<String> bad = List.of(
                "",
                "   ",
                "not a key",
                "ssh-ed25519",
                "ssh-ed25519 !!!notbase64!!!",
                parts[0] + " " + parts[1].substring(0, parts[1].length() - 8),        // truncated
                parts[0] + " " + parts[1] + "AAAA",                                      // trailing data
                "ssh-rsa " + parts[1],                                                   // type says rsa, blob is ed25519
                "ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAAAAFQCXYFCPFSMLzLKSuYKi64QL8Fgc9QAAAIEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSo=",
                good + "\nssh-ed25519 AAAA second-line",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----",
                "ssh-ed25519 " + "A".repeat(20000));
        for (String key : bad) {
            Api.Resp r = api.post("/compute/ssh-keys", obj("name", "bad", "public_key", key));
            assertTrue(r.status() == 400 || r.status() == 422, "accepted or wrongly refused key <" + key + ">: " + r);
            r.expectError(r.status());
        }
        api.post("/compute/ssh-keys", obj("name", "", "public_key", good)).expectError(400);
        api.post("/compute/ssh-keys", obj("name", "x".repeat(1000), "public_key", good)).expectError(400);
        assertEquals(0, keys(api).size(), "a refused key was stored");
    }

    @Test
    void duplicateKeyIs409() {
        Api api = platform.get().newUserApi("dupkeys");
        String line = SshKeys.ed25519("dup@itest");
        api.post("/compute/ssh-keys", obj("name", "first", "public_key", line)).expect(201);
        api.post("/compute/ssh-keys", obj("name", "second", "public_key", line)).expectError(409);
        // the same key material under another comment is the same key
        String[] p = line.split(" ");
        api.post("/compute/ssh-keys", obj("name", "third", "public_key", p[0] + " " + p[1] + " other-comment")).expectError(409);
        assertEquals(1, keys(api).size());
        // another user may hold the same key
        platform.get().newUserApi("dupkeys2").post("/compute/ssh-keys", obj("name", "mine", "public_key", line)).expect(201);
    }

    @Test
    void eleventhKeyIs409() {
        Api api = platform.get().newUserApi("tenkeys");
        for (int i = 0; i < 10; i++) Fixtures.addKey(api, "key" + i);
        String error = api.post("/compute/ssh-keys", obj("name", "eleventh", "public_key", SshKeys.ed25519("k11@itest"))).expectError(409);
        assertTrue(error.contains("10"), "the limit is not named: " + error);
        assertEquals(10, keys(api).size());
        // deleting one makes room for one
        api.delete("/compute/ssh-keys/" + keys(api).get(0).path("id").asLong()).expect(200);
        Fixtures.addKey(api, "replacement");
        api.post("/compute/ssh-keys", obj("name", "twelfth", "public_key", SshKeys.ed25519("k12@itest"))).expectError(409);
    }

    @Test
    void keyLimitHoldsUnderConcurrency() throws Exception {
        Api api = platform.get().newUserApi("raceykeys");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) lines.add(SshKeys.ed25519("race" + i + "@itest"));
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Callable<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                Map<String, Object> body = obj("name", "race" + i, "public_key", lines.get(i));
                calls.add(() -> api.post("/compute/ssh-keys", body).status());
            }
            int created = 0, refused = 0;
            for (Future<Integer> f : pool.invokeAll(calls)) {
                int s = f.get();
                if (s == 201) created++;
                else if (s == 409) refused++;
                else throw new AssertionError("unexpected status " + s);
            }
            assertEquals(10, created, "created");
            assertEquals(6, refused, "refused");
            assertEquals(10, keys(api).size());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void deletingAKeyRevokesItInsideContainers() {
        Api api = platform.get().newUserApi("revoke");
        List<String> lines = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String line = SshKeys.ed25519("revoke" + i + "@itest");
            lines.add(line);
            ids.add(api.post("/compute/ssh-keys", obj("name", "k" + i, "public_key", line)).expect(201).path("id").asLong());
        }
        String id = Fixtures.create(api, obj("name", "revoked", "instance_type", "tiny", "image", Fixtures.BUSYBOX,
                "ssh_key_ids", ids)).path("id").asText();
        Fixtures.awaitRunning(api, id);
        String name = Docker.name(id);
        String file = Docker.execOk(name, "cat", "/root/.ssh/authorized_keys");
        for (String line : lines) assertTrue(file.contains(line.split(" ")[1]), "authorized_keys lacks a key: " + file);

        // revoked while running: gone from the file, the others stay
        api.delete("/compute/ssh-keys/" + ids.get(0)).expect(200);
        String after = Poll.until("key 0 to leave authorized_keys", Duration.ofSeconds(30),
                () -> Docker.execOk(name, "cat", "/root/.ssh/authorized_keys"), f -> !f.contains(lines.get(0).split(" ")[1]));
        assertTrue(after.contains(lines.get(1).split(" ")[1]) && after.contains(lines.get(2).split(" ")[1]), after);
        assertEquals("running", Fixtures.get(api, id).path("status").asText());

        // revoked while stopped: not there when it starts again
        api.post("/compute/containers/" + id + "/stop").expect(200);
        api.delete("/compute/ssh-keys/" + ids.get(1)).expect(200);
        api.post("/compute/containers/" + id + "/start").expect(200);
        Fixtures.awaitRunning(api, id);
        String restarted = Poll.until("authorized_keys to hold only key 2", Duration.ofSeconds(30),
                () -> Docker.execOk(name, "cat", "/root/.ssh/authorized_keys"),
                f -> !f.contains(lines.get(1).split(" ")[1]) && f.contains(lines.get(2).split(" ")[1]));
        assertFalse(restarted.contains(lines.get(0).split(" ")[1]), restarted);
        api.delete("/compute/containers/" + id).expect(200);
    }
}
