package com.ecloud.compute.itest;

import static com.ecloud.compute.itest.harness.Api.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.Jwts;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;
import com.ecloud.compute.itest.harness.Poll;
import com.ecloud.compute.itest.harness.Tokens;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Authentication (401) and authorisation (403, and 404 for what belongs to someone else) on every endpoint. */
class AuthIT {

    // The expiry test waits 2 s after a 1 s token: the default 30 s clock-skew tolerance is turned off here
    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension()
            .config("com.ecloud.compute.auth", Map.of("clock.skew.seconds", "0"));

    static String alice;
    static String bob;
    static Api aliceApi;
    static Api bobApi;
    static long aliceKey;
    static long bobKey;
    static String aliceContainer;
    static String bobContainer;

    @BeforeAll
    static void users() {
        PlatformProcess p = platform.get();
        alice = p.newUser("alice");
        bob = p.newUser("bob");
        aliceApi = p.api(p.token(alice));
        bobApi = p.api(p.token(bob));
        aliceKey = Fixtures.addKey(aliceApi, "alice-laptop");
        bobKey = Fixtures.addKey(bobApi, "bob-laptop");
        aliceContainer = Fixtures.createBusybox(aliceApi, "alice-box", aliceKey).path("id").asText();
        bobContainer = Fixtures.createBusybox(bobApi, "bob-box", bobKey).path("id").asText();
    }

    /** Every kind of request a caller can make, to check that a refusal holds everywhere. */
    private static List<String[]> endpoints(String containerId, long keyId) {
        String c = "/compute/containers/" + containerId;
        return List.of(
                new String[] {"GET", "/compute/containers"},
                new String[] {"POST", "/compute/containers"},
                new String[] {"GET", c},
                new String[] {"DELETE", c},
                new String[] {"POST", c + "/start"},
                new String[] {"POST", c + "/stop"},
                new String[] {"GET", c + "/ssh"},
                new String[] {"PUT", c + "/ssh"},
                new String[] {"GET", c + "/ingress"},
                new String[] {"POST", c + "/ingress"},
                new String[] {"DELETE", c + "/ingress/8080"},
                new String[] {"GET", c + "/mounts"},
                new String[] {"PUT", c + "/mounts"},
                new String[] {"GET", "/compute/images"},
                new String[] {"GET", "/compute/ssh-keys"},
                new String[] {"POST", "/compute/ssh-keys"},
                new String[] {"DELETE", "/compute/ssh-keys/" + keyId});
    }

    private static String bodyFor(String method, String path) {
        if (method.equals("GET") || method.equals("DELETE") || path.endsWith("/start") || path.endsWith("/stop")) return null;
        if (path.endsWith("/ssh")) return "{\"ssh_enabled\":true}";
        if (path.endsWith("/ingress")) return "{\"port\":8080}";
        if (path.endsWith("/mounts")) return "{\"mount_paths\":[\"/root\",\"/srv\"]}";
        if (path.endsWith("/ssh-keys")) return "{\"name\":\"x\",\"public_key\":\"ssh-ed25519 AAAA\"}";
        return "{\"name\":\"x\",\"ssh_key_ids\":[1]}";
    }

    /** Sends the request of every endpoint with this Authorization header (null: none) and expects the status. */
    private static void everyEndpointAnswers(String authorization, int status) {
        for (String[] e : endpoints(aliceContainer, aliceKey)) {
            String body = bodyFor(e[0], e[1]);
            Map<String, String> headers = authorization == null ? Map.of() : Map.of("Authorization", authorization);
            Api.Resp r = platform.get().anonymous().send(e[0], e[1], body == null ? null : body.getBytes(StandardCharsets.UTF_8),
                    body == null ? null : "application/json", headers);
            r.expectError(status);
        }
    }

    private static void assertNothingChanged() {
        List<String> ids = Fixtures.ids(aliceApi);
        assertEquals(List.of(aliceContainer), ids, "alice's containers changed");
        assertEquals(1, aliceApi.get("/compute/ssh-keys").expect(200).path("ssh_keys").size(), "alice's keys changed");
        JsonNode c = Fixtures.get(aliceApi, aliceContainer);
        assertFalse(c.path("ssh_enabled").asBoolean(), "ssh_enabled changed: " + c);
        assertEquals(List.of("/root"), Api.JSON.convertValue(aliceApi.get("/compute/containers/" + aliceContainer + "/mounts")
                .expect(200).path("mount_paths"), List.class));
        assertEquals(0, aliceApi.get("/compute/containers/" + aliceContainer + "/ingress").expect(200).path("rules").size());
    }

    @Test
    void healthAnswersWithoutToken() {
        assertEquals(200, platform.get().anonymous().get("/livez").status());
        assertEquals(200, platform.get().anonymous().get("/readyz").status());
    }

    @Test
    void missingTokenIs401Everywhere() {
        everyEndpointAnswers(null, 401);
        assertNothingChanged();
    }

    @Test
    void malformedTokensAre401() {
        for (String auth : List.of("Bearer ", "Bearer abc", "Bearer a.b.c", "Bearer " + aliceApi.token() + "x.y",
                "Bearer eyJhbGciOiJFUzI1NiJ9.%%%.abc", "Bearer " + "a".repeat(5000))) {
            aliceApi.send("GET", "/compute/containers", null, null, Map.of("Authorization", auth)).expectError(401);
        }
    }

    @Test
    void nonBearerSchemesAre401() {
        String basic = Base64.getEncoder().encodeToString((alice + ":secret").getBytes(StandardCharsets.UTF_8));
        everyEndpointAnswers("Basic " + basic, 401);
        everyEndpointAnswers("Token " + aliceApi.token(), 401);
        everyEndpointAnswers(aliceApi.token(), 401); // the token alone, without a scheme
        assertNothingChanged();
    }

    @Test
    void tokenOfAnotherKeyIs401() throws Exception {
        Path other = Files.createTempDirectory("ecloud-it-otherkey-");
        try {
            String foreign = Tokens.mint(other, alice);
            everyEndpointAnswers("Bearer " + foreign, 401);
            // the same foreign signature presented under this server's key id: an invalid signature
            ObjectNode header = Jwts.header(foreign);
            header.put("kid", Jwts.header(aliceApi.token()).path("kid").asText());
            String relabelled = Jwts.assemble(header, Jwts.claims(foreign), Jwts.signature(foreign));
            aliceApi.send("GET", "/compute/containers", null, null, Map.of("Authorization", "Bearer " + relabelled)).expectError(401);
        } finally {
            try (var files = Files.walk(other)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        assertNothingChanged();
    }

    @Test
    void tamperedTokensAre401() {
        String token = aliceApi.token();
        // payload changed (another user), signature kept
        ObjectNode claims = Jwts.claims(token);
        claims.put("sub", bob);
        claims.put("scope", "compute." + bob + ":read,create,update,delete");
        String otherSub = Jwts.assemble(Jwts.header(token), claims, Jwts.signature(token));
        everyEndpointAnswers("Bearer " + otherSub, 401);
        // payload changed (longer expiry), signature kept
        ObjectNode later = Jwts.claims(token);
        later.put("exp", later.path("exp").asLong() + 3600);
        aliceApi.send("GET", "/compute/containers", null, null,
                Map.of("Authorization", "Bearer " + Jwts.assemble(Jwts.header(token), later, Jwts.signature(token)))).expectError(401);
        // signature changed
        String sig = Jwts.signature(token);
        char flipped = sig.charAt(5) == 'A' ? 'B' : 'A';
        String badSig = token.substring(0, token.lastIndexOf('.') + 1) + sig.substring(0, 5) + flipped + sig.substring(6);
        aliceApi.send("GET", "/compute/containers", null, null, Map.of("Authorization", "Bearer " + badSig)).expectError(401);
        // signature removed
        aliceApi.send("GET", "/compute/containers", null, null,
                Map.of("Authorization", "Bearer " + token.substring(0, token.lastIndexOf('.') + 1))).expectError(401);
        assertNothingChanged();
    }

    @Test
    void algNoneIs401() {
        String token = aliceApi.token();
        ObjectNode none = Api.JSON.createObjectNode().put("alg", "none").put("typ", "JWT");
        String unsigned = Jwts.encode(none) + "." + Jwts.encode(Jwts.claims(token)) + ".";
        everyEndpointAnswers("Bearer " + unsigned, 401);
        // "none" with the original signature left on, and other spellings
        aliceApi.send("GET", "/compute/containers", null, null,
                Map.of("Authorization", "Bearer " + Jwts.assemble(none, Jwts.claims(token), Jwts.signature(token)))).expectError(401);
        ObjectNode noneUpper = Api.JSON.createObjectNode().put("alg", "NONE").put("typ", "JWT");
        aliceApi.send("GET", "/compute/containers", null, null,
                Map.of("Authorization", "Bearer " + Jwts.encode(noneUpper) + "." + Jwts.encode(Jwts.claims(token)) + ".")).expectError(401);
        // HS256 is not accepted either, whatever secret signed it
        ObjectNode hs = Jwts.header(token).put("alg", "HS256");
        aliceApi.send("GET", "/compute/containers", null, null,
                Map.of("Authorization", "Bearer " + Jwts.assemble(hs, Jwts.claims(token), Jwts.signature(token)))).expectError(401);
        assertNothingChanged();
    }

    @Test
    void expiredTokensAre401() {
        String shortLived = Tokens.mintWithTtl(platform.get().dataDir(), alice, "1s");
        Poll.sleep(Duration.ofMillis(2100));
        everyEndpointAnswers("Bearer " + shortLived, 401);
        // properly signed with this server's key, expired an hour ago
        ObjectNode claims = Jwts.claims(aliceApi.token());
        long now = Instant.now().getEpochSecond();
        claims.put("iat", now - 7200).put("exp", now - 3600);
        String old = Jwts.signWithDataKey(platform.get().dataDir(), Jwts.header(aliceApi.token()), claims);
        aliceApi.send("GET", "/compute/containers", null, null, Map.of("Authorization", "Bearer " + old)).expectError(401);
        // the same hand-signed token with a future exp is accepted: the 401 above is the expiry, not the signing
        claims.put("iat", now).put("exp", now + 600);
        String fresh = Jwts.signWithDataKey(platform.get().dataDir(), Jwts.header(aliceApi.token()), claims);
        aliceApi.send("GET", "/compute/containers", null, null, Map.of("Authorization", "Bearer " + fresh)).expect(200);
        assertNothingChanged();
    }

    @Test
    void tokenWithoutTheScopeIs403() {
        PlatformProcess p = platform.get();
        Api keysOnly = p.api(p.token(alice, "compute." + alice + ".keys:read"));
        String error = keysOnly.get("/compute/containers").expectError(403);
        assertTrue(error.contains("compute." + alice + ".containers"), "403 does not name the missing scope: " + error);
        keysOnly.post("/compute/containers", obj("name", "nope", "ssh_key_ids", List.of(aliceKey))).expectError(403);
        keysOnly.get("/compute/containers/" + aliceContainer).expectError(403);
        keysOnly.delete("/compute/containers/" + aliceContainer).expectError(403);
        keysOnly.get("/compute/images").expectError(403);
        keysOnly.post("/compute/ssh-keys", obj("name", "k", "public_key", "ssh-ed25519 AAAA")).expectError(403);
        keysOnly.delete("/compute/ssh-keys/" + aliceKey).expectError(403);
        // what it does cover works
        assertEquals(1, keysOnly.get("/compute/ssh-keys").expect(200).path("ssh_keys").size());

        // a token of alice that grants everything on bob's resources gives alice nothing
        Api bobScope = p.api(p.token(alice, "compute." + bob + ":read,create,update,delete"));
        bobScope.get("/compute/containers").expectError(403);
        bobScope.get("/compute/ssh-keys").expectError(403);
        // read-only on alice: every write refused
        Api readOnly = p.api(p.token(alice, "compute." + alice + ":read"));
        readOnly.post("/compute/containers", obj("name", "nope", "ssh_key_ids", List.of(aliceKey))).expectError(403);
        readOnly.post("/compute/containers/" + aliceContainer + "/stop").expectError(403);
        readOnly.put("/compute/containers/" + aliceContainer + "/ssh", obj("ssh_enabled", true)).expectError(403);
        readOnly.put("/compute/containers/" + aliceContainer + "/mounts", obj("mount_paths", List.of("/root", "/srv"))).expectError(403);
        readOnly.post("/compute/containers/" + aliceContainer + "/ingress", obj("port", 8080)).expectError(403);
        readOnly.delete("/compute/containers/" + aliceContainer).expectError(403);
        assertNothingChanged();
    }

    @Test
    void narrowerScopesWork() {
        PlatformProcess p = platform.get();
        Api containersRead = p.api(p.token(alice, "compute." + alice + ".containers:read"));
        assertEquals(List.of(aliceContainer), Fixtures.ids(containersRead));
        assertEquals(aliceContainer, containersRead.get("/compute/containers/" + aliceContainer).expect(200).path("id").asText());
        containersRead.get("/compute/images").expect(200);
        containersRead.get("/compute/ssh-keys").expectError(403);
        containersRead.post("/compute/containers", obj("name", "nope", "ssh_key_ids", List.of(aliceKey))).expectError(403);

        // one container's scope: that container, nothing else (not the list)
        Api oneContainer = p.api(p.token(alice, "compute." + alice + ".containers." + aliceContainer + ":read,update"));
        oneContainer.get("/compute/containers/" + aliceContainer).expect(200);
        oneContainer.get("/compute/containers/" + aliceContainer + "/mounts").expect(200);
        oneContainer.get("/compute/containers").expectError(403);
        oneContainer.delete("/compute/containers/" + aliceContainer).expectError(403);
        oneContainer.get("/compute/containers/zzzzzzzz").expectError(403);
        assertNothingChanged();
    }

    @Test
    void scopeCoversWhatIsBeneathIt() {
        PlatformProcess p = platform.get();
        Api userRead = p.api(p.token(alice, "compute." + alice + ":read"));
        assertEquals(List.of(aliceContainer), Fixtures.ids(userRead));
        userRead.get("/compute/containers/" + aliceContainer).expect(200);
        userRead.get("/compute/containers/" + aliceContainer + "/ssh").expect(200);
        userRead.get("/compute/containers/" + aliceContainer + "/ingress").expect(200);
        userRead.get("/compute/containers/" + aliceContainer + "/mounts").expect(200);
        userRead.get("/compute/ssh-keys").expect(200);
        userRead.get("/compute/images").expect(200);
        // a prefix that is not a dotted parent covers nothing: compute.<alice>x is not compute.<alice>
        String lookalike = alice.substring(0, alice.length() - 1);
        Api prefix = p.api(p.token(alice, "compute." + lookalike + ":read"));
        prefix.get("/compute/containers").expectError(403);
    }

    @Test
    void anotherUsersContainerAndKeyAre404AndNeverListed() {
        String c = "/compute/containers/" + bobContainer;
        aliceApi.get(c).expectError(404);
        aliceApi.delete(c).expectError(404);
        aliceApi.post(c + "/start").expectError(404);
        aliceApi.post(c + "/stop").expectError(404);
        aliceApi.get(c + "/ssh").expectError(404);
        aliceApi.put(c + "/ssh", obj("ssh_enabled", true)).expectError(404);
        aliceApi.get(c + "/mounts").expectError(404);
        aliceApi.put(c + "/mounts", obj("mount_paths", List.of("/root", "/srv"))).expectError(404);
        aliceApi.get(c + "/ingress").expectError(404);
        aliceApi.post(c + "/ingress", obj("port", 8080)).expectError(404);
        aliceApi.delete(c + "/ingress/8080").expectError(404);
        aliceApi.delete("/compute/ssh-keys/" + bobKey).expectError(404);
        // the 404 does not tell "exists but not yours" from "does not exist"
        String missing = aliceApi.get("/compute/containers/zz99zz99").expectError(404);
        String foreign = aliceApi.get(c).expectError(404);
        assertEquals(missing.replace("zz99zz99", bobContainer), foreign);
        // bob's key cannot be attached to alice's container
        int status = aliceApi.post("/compute/containers", obj("name", "steal", "ssh_key_ids", List.of(bobKey))).status();
        assertTrue(status == 404 || status == 422, "bob's key id accepted by alice's create: " + status);

        assertFalse(Fixtures.ids(aliceApi).contains(bobContainer));
        aliceApi.get("/compute/ssh-keys").expect(200).path("ssh_keys")
                .forEach(k -> assertFalse(k.path("id").asLong() == bobKey, "bob's key listed to alice"));
        assertNothingChanged();
        // and bob's things are untouched
        JsonNode bc = Fixtures.get(bobApi, bobContainer);
        assertFalse(bc.path("ssh_enabled").asBoolean());
        assertEquals(List.of(bobContainer), Fixtures.ids(bobApi));
        assertEquals(1, bobApi.get("/compute/ssh-keys").expect(200).path("ssh_keys").size());
        assertEquals(0, bobApi.get(c + "/ingress").expect(200).path("rules").size());
    }

    @Test
    void tokenInQueryParameterWorks() {
        Api anonymous = platform.get().anonymous();
        JsonNode list = anonymous.get("/compute/containers?token=" + aliceApi.token()).expect(200);
        assertEquals(aliceContainer, list.path("containers").get(0).path("id").asText());
        assertEquals(1, list.path("containers").size());
        anonymous.get("/compute/containers?token=garbage").expectError(401);
    }
}
