package com.ecloud.compute.auth.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.ecloud.compute.auth.Grant;
import com.ecloud.compute.auth.InvalidTokenException;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.SigningKeys;
import com.ecloud.compute.auth.TokenIssuer;
import com.ecloud.compute.auth.TokenVerifier;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;

/** Every way a token must be refused, each built for real, and the tokens that must pass. */
class TokenVerificationTest {

    private static final Instant NOW = Instant.parse("2030-01-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    @TempDir
    Path data;

    private SigningKeys keys;
    private TokenIssuer issuer;
    private TokenVerifier verifier;
    private ECKey signingKey;

    @BeforeEach
    void openKeys() throws Exception {
        keys = SigningKeys.openOrCreate(data);
        issuer = keys.issuer(CLOCK);
        verifier = keys.verifier(Duration.ofSeconds(30), CLOCK);
        signingKey = (ECKey) JWKSet.load(keys.file().toFile()).getKeys().get(0);
    }

    @Test
    void acceptsAnIssuedTokenWithItsGrants() throws Exception {
        String token = issuer.issue("alice", List.of(new Grant("compute.alice", Set.of("read", "create")),
                new Grant("compute.bob.keys", Set.of("read"))), Duration.ofHours(24));

        Principal principal = verifier.verify(token);

        assertEquals("alice", principal.uid());
        assertEquals(NOW.plus(Duration.ofHours(24)), principal.expiresAt());
        assertTrue(principal.permits("compute.alice.containers.abc12345", "create"));
        assertFalse(principal.permits("compute.alice.containers.abc12345", "delete"));
        assertTrue(principal.permits("compute.bob.keys", "read"));
        assertFalse(principal.permits("compute.bob", "read"));
        SignedJWT jwt = SignedJWT.parse(token);
        assertEquals(JWSAlgorithm.ES256, jwt.getHeader().getAlgorithm());
        assertEquals(keys.signingKeyId(), jwt.getHeader().getKeyID());
        assertEquals("compute.alice:read,create compute.bob.keys:read", jwt.getJWTClaimsSet().getStringClaim("scope"));
        assertEquals(Date.from(NOW), jwt.getJWTClaimsSet().getIssueTime());
    }

    @Test
    void noGrantsMeansTheUsersFullScope() throws Exception {
        String token = issuer.issue("alice", List.of(), Duration.ofMinutes(5));

        assertEquals("compute.alice:read,create,update,delete",
                SignedJWT.parse(token).getJWTClaimsSet().getStringClaim("scope"));
        Principal principal = verifier.verify(token);
        for (String action : Grant.ALL_ACTIONS) {
            assertTrue(principal.permits("compute.alice.containers.abc12345", action));
        }
        assertFalse(principal.permits("compute.alicex", "read"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t"})
    void refusesMissingTokens(String token) {
        assertRefused(token, "missing token");
        assertRefused(null, "missing token");
    }

    @ParameterizedTest
    @ValueSource(strings = {"garbage", "a.b.c", "a.b", "...", "eyJhbGciOiJFUzI1NiJ9", "eyJhbGciOiJFUzI1NiJ9.e30",
            "eyJhbGciOiJFUzI1NiJ9.%%%.abc", "x.y.z.w.v"})
    void refusesMalformedTokens(String token) {
        InvalidTokenException e = assertThrows(InvalidTokenException.class, () -> verifier.verify(token));
        assertFalse(e.getMessage().contains(token), "message must not echo the token");
    }

    @Test
    void refusesOversizedTokens() {
        assertRefused("a".repeat(EcTokenVerifier.MAX_TOKEN_LENGTH + 1), "malformed token");
    }

    @Test
    void refusesAlgNone() {
        String unsigned = new PlainJWT(validClaims().build()).serialize();
        assertRefused(unsigned, "token is not signed");

        // "alg: none" in the header of an otherwise valid ES256 token, signature kept
        String valid = issuer.issue("alice", List.of(), Duration.ofHours(1));
        String[] parts = valid.split("\\.");
        String noneHeader = base64Url("{\"alg\":\"none\",\"kid\":\"" + keys.signingKeyId() + "\",\"typ\":\"JWT\"}");
        assertRefusedAnyReason(noneHeader + "." + parts[1] + "." + parts[2]);
        assertRefusedAnyReason(noneHeader + "." + parts[1] + ".");
        String noneUpper = base64Url("{\"alg\":\"NONE\",\"kid\":\"" + keys.signingKeyId() + "\"}");
        assertRefusedAnyReason(noneUpper + "." + parts[1] + "." + parts[2]);
    }

    @Test
    void refusesHs256MadeWithThePublicKeyBytes() throws Exception {
        // the classic key-confusion attack: HMAC keyed with the verifier's public key
        byte[] publicKeyBytes = signingKey.toECPublicKey().getEncoded();
        String token = sign(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(keys.signingKeyId()).build(),
                validClaims().build(), new MACSigner(publicKeyBytes));
        assertRefused(token, "token algorithm is not accepted");
    }

    @Test
    void refusesOtherEcAlgorithms() throws Exception {
        ECKey p384 = new ECKeyGenerator(Curve.P_384).keyID(keys.signingKeyId()).generate();
        String token = sign(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID(keys.signingKeyId()).build(),
                validClaims().build(), new ECDSASigner(p384));
        assertRefused(token, "token algorithm is not accepted");
    }

    @Test
    void refusesATamperedPayload() throws Exception {
        String token = issuer.issue("alice", List.of(new Grant("compute.alice", Set.of("read"))), Duration.ofHours(1));
        String[] parts = token.split("\\.");
        JWTClaimsSet widened = validClaims().claim("scope", "compute:read,create,update,delete").build();
        assertRefused(parts[0] + "." + base64Url(widened.toString()) + "." + parts[2], "token signature is invalid");

        JWTClaimsSet otherUser = validClaims().subject("bob").build();
        assertRefused(parts[0] + "." + base64Url(otherUser.toString()) + "." + parts[2], "token signature is invalid");
    }

    @Test
    void refusesATamperedSignature() {
        String token = issuer.issue("alice", List.of(), Duration.ofHours(1));
        String[] parts = token.split("\\.");
        byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
        signature[10] ^= 0x01;
        assertRefused(parts[0] + "." + parts[1] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature),
                "token signature is invalid");
    }

    @Test
    void refusesATokenSignedWithAnotherKeyUnderOurKid() throws Exception {
        ECKey stranger = new ECKeyGenerator(Curve.P_256).generate();
        String token = sign(es256(keys.signingKeyId()), validClaims().build(), new ECDSASigner(stranger));
        assertRefused(token, "token signature is invalid");
    }

    @Test
    void refusesATokenOfAnotherKeyFile(@TempDir Path otherData) throws Exception {
        String token = SigningKeys.openOrCreate(otherData).issuer(CLOCK).issue("alice", List.of(), Duration.ofHours(1));
        assertRefused(token, "token is signed with an unknown key");
    }

    @Test
    void refusesMissingOrUnknownKid() throws Exception {
        ECDSASigner ours = new ECDSASigner(signingKey);
        assertRefused(sign(new JWSHeader.Builder(JWSAlgorithm.ES256).build(), validClaims().build(), ours),
                "token has no key id");
        assertRefused(sign(es256(""), validClaims().build(), ours), "token has no key id");
        assertRefused(sign(es256("no-such-key"), validClaims().build(), ours), "token is signed with an unknown key");
    }

    @Test
    void refusesExpiredTokensBeyondTheClockSkew() throws Exception {
        String token = issuer.issue("alice", List.of(), Duration.ofSeconds(60));

        Instant expiry = NOW.plusSeconds(60);
        keys.verifier(Duration.ofSeconds(30), Clock.fixed(expiry.plusSeconds(29), ZoneOffset.UTC)).verify(token);
        InvalidTokenException e = assertThrows(InvalidTokenException.class,
                () -> keys.verifier(Duration.ofSeconds(30), Clock.fixed(expiry.plusSeconds(31), ZoneOffset.UTC)).verify(token));
        assertEquals("token has expired", e.getMessage());
        assertThrows(InvalidTokenException.class,
                () -> keys.verifier(Duration.ZERO, Clock.fixed(expiry.plusSeconds(1), ZoneOffset.UTC)).verify(token));
    }

    @Test
    void aTokenVerifiedOnceIsStillRefusedOnceItExpires() throws Exception {
        String token = issuer.issue("alice", List.of(), Duration.ofSeconds(60));
        Instant[] now = {NOW};
        Clock moving = new Clock() {
            @Override public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
            @Override public Clock withZone(java.time.ZoneId zone) { return this; }
            @Override public Instant instant() { return now[0]; }
        };
        TokenVerifier cached = keys.verifier(Duration.ZERO, moving);
        assertEquals("alice", cached.verify(token).uid());
        assertEquals("alice", cached.verify(token).uid(), "the second verification comes from the cache");
        now[0] = NOW.plusSeconds(61);
        assertEquals("token has expired", assertThrows(InvalidTokenException.class, () -> cached.verify(token)).getMessage());
        String tampered = token.substring(0, token.length() - 2) + (token.endsWith("A") ? "BB" : "AA");
        now[0] = NOW;
        assertThrows(InvalidTokenException.class, () -> cached.verify(tampered));
    }

    @Test
    void refusesTokensFromTheFuture() throws Exception {
        ECDSASigner ours = new ECDSASigner(signingKey);
        JWTClaimsSet issuedLater = validClaims().issueTime(Date.from(NOW.plusSeconds(120))).build();
        assertRefused(sign(es256(keys.signingKeyId()), issuedLater, ours), "token is issued in the future");
        JWTClaimsSet notYet = validClaims().notBeforeTime(Date.from(NOW.plusSeconds(120))).build();
        assertRefused(sign(es256(keys.signingKeyId()), notYet, ours), "token is not valid yet");
        // within the skew: accepted
        JWTClaimsSet slightlyAhead = validClaims().issueTime(Date.from(NOW.plusSeconds(20))).build();
        verifier.verify(sign(es256(keys.signingKeyId()), slightlyAhead, ours));
    }

    @Test
    void refusesMissingExpiry() throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject("alice").claim("scope", "compute.alice:read").build();
        assertRefused(sign(es256(keys.signingKeyId()), claims, new ECDSASigner(signingKey)), "token has no expiry");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Alice", "-alice", "alice/x", "a.b", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
    void refusesInvalidSubjects(String subject) throws Exception {
        JWTClaimsSet claims = validClaims().subject(subject).build();
        assertRefused(sign(es256(keys.signingKeyId()), claims, new ECDSASigner(signingKey)), "token has no valid subject");
    }

    @Test
    void refusesAMissingSubject() throws Exception {
        JWTClaimsSet claims = validClaims().subject(null).build();
        assertRefused(sign(es256(keys.signingKeyId()), claims, new ECDSASigner(signingKey)), "token has no valid subject");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "admin", "compute.alice", "compute.alice:", "compute.alice:write",
            "compute.alice:read,", "compute.alice:read,,delete", "other.alice:read", "computex:read",
            "compute..alice:read", "compute.Alice:read", "compute.alice:read compute.bob"})
    void refusesInvalidScopes(String scope) throws Exception {
        JWTClaimsSet claims = validClaims().claim("scope", scope).build();
        assertRefused(sign(es256(keys.signingKeyId()), claims, new ECDSASigner(signingKey)), "token has no valid scope");
    }

    @Test
    void refusesMissingOrNonTextScopes() throws Exception {
        ECDSASigner ours = new ECDSASigner(signingKey);
        assertRefused(sign(es256(keys.signingKeyId()), validClaims().claim("scope", null).build(), ours),
                "token has no valid scope");
        assertRefused(sign(es256(keys.signingKeyId()), validClaims().claim("scope", 42).build(), ours),
                "token has no valid scope");
        assertRefused(sign(es256(keys.signingKeyId()), validClaims().claim("scope", List.of("compute.alice:read")).build(), ours),
                "token has no valid scope");
    }

    @Test
    void refusesUnknownCriticalHeaders() throws Exception {
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(keys.signingKeyId())
                .criticalParams(Set.of("x-must-understand")).customParam("x-must-understand", true).build();
        assertRefused(sign(header, validClaims().build(), new ECDSASigner(signingKey)), "token signature is invalid");
    }

    @Test
    void acceptsAHandBuiltTokenWithoutTyp() throws Exception {
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(keys.signingKeyId()).build();
        Principal principal = verifier.verify(sign(header, validClaims().build(), new ECDSASigner(signingKey)));
        assertEquals("alice", principal.uid());
    }

    @Test
    void issuerRefusesInvalidInput() {
        assertThrows(IllegalArgumentException.class, () -> issuer.issue("Alice", List.of(), Duration.ofHours(1)));
        assertThrows(IllegalArgumentException.class, () -> issuer.issue(null, List.of(), Duration.ofHours(1)));
        assertThrows(IllegalArgumentException.class, () -> issuer.issue("alice", List.of(), Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> issuer.issue("alice", List.of(), Duration.ofSeconds(-5)));
        assertThrows(IllegalArgumentException.class, () -> issuer.issue("alice", List.of(), Duration.ofDays(100_000)));
        assertThrows(IllegalArgumentException.class,
                () -> issuer.issue("alice", List.of(new Grant("other", Set.of("read"))), Duration.ofHours(1)));
        assertThrows(IllegalArgumentException.class,
                () -> issuer.issue("alice", List.of(new Grant("compute.alice", Set.of("write"))), Duration.ofHours(1)));
        assertThrows(IllegalArgumentException.class,
                () -> issuer.issue("alice", List.of(new Grant("compute.alice", Set.of())), Duration.ofHours(1)));
    }

    private JWTClaimsSet.Builder validClaims() {
        return new JWTClaimsSet.Builder()
                .subject("alice")
                .issueTime(Date.from(NOW))
                .expirationTime(Date.from(NOW.plusSeconds(3600)))
                .claim("scope", "compute.alice:read,create,update,delete");
    }

    private static JWSHeader es256(String kid) {
        return new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).type(JOSEObjectType.JWT).build();
    }

    private static String sign(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) throws Exception {
        SignedJWT jwt = new SignedJWT(header, claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static String base64Url(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private void assertRefused(String token, String expectedMessageStart) {
        InvalidTokenException e = assertThrows(InvalidTokenException.class, () -> verifier.verify(token));
        assertTrue(e.getMessage().startsWith(expectedMessageStart),
                "expected '" + expectedMessageStart + "...' but got '" + e.getMessage() + "'");
        if (token != null && token.length() > 8) {
            assertFalse(e.getMessage().contains(token), "message must not echo the token");
            for (String part : token.split("\\.")) {
                if (part.length() > 8) assertFalse(e.getMessage().contains(part), "message must not echo the token");
            }
        }
    }

    private void assertRefusedAnyReason(String token) {
        InvalidTokenException e = assertThrows(InvalidTokenException.class, () -> verifier.verify(token));
        assertFalse(e.getMessage().contains(token));
    }
}
