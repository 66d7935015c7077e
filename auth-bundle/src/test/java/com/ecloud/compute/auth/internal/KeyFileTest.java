package com.ecloud.compute.auth.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.ecloud.compute.auth.SigningKeys;
import com.ecloud.compute.auth.TokenVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.SignedJWT;

class KeyFileTest {

    @TempDir
    Path data;

    @Test
    void createsThePrivateKeyFileOnFirstUse() throws Exception {
        SigningKeys keys = SigningKeys.openOrCreate(data);

        Path file = data.resolve("secrets/token-signing.jwks");
        assertEquals(file.toAbsolutePath(), keys.file());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        JWKSet set = JWKSet.load(file.toFile());
        assertEquals(1, set.getKeys().size());
        ECKey key = (ECKey) set.getKeys().get(0);
        assertTrue(key.isPrivate());
        assertEquals(Curve.P_256, key.getCurve());
        assertEquals(key.computeThumbprint().toString(), key.getKeyID());
        assertEquals(key.getKeyID(), keys.signingKeyId());
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void reusesTheKeyFileAcrossInstances() throws Exception {
        SigningKeys first = SigningKeys.openOrCreate(data);
        byte[] content = Files.readAllBytes(first.file());
        String token = first.issuer().issue("alice", List.of(), Duration.ofMinutes(5));

        SigningKeys second = SigningKeys.openOrCreate(data);

        assertEquals(first.signingKeyId(), second.signingKeyId());
        assertEquals(new String(content, StandardCharsets.UTF_8), Files.readString(second.file()));
        assertEquals("alice", second.verifier().verify(token).uid());
        assertEquals(second.signingKeyId(), SignedJWT.parse(second.issuer().issue("bob", List.of(), Duration.ofMinutes(1)))
                .getHeader().getKeyID());
    }

    @Test
    void concurrentCreationYieldsOneKey() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 20; round++) {
                Path roundData = data.resolve("round" + round);
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<SigningKeys>> opened = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    opened.add(pool.submit(() -> {
                        start.await();
                        return SigningKeys.openOrCreate(roundData);
                    }));
                }
                Set<String> keyIds = new HashSet<>();
                List<String> tokens = new ArrayList<>();
                for (Future<SigningKeys> keys : opened) {
                    keyIds.add(keys.get().signingKeyId());
                    tokens.add(keys.get().issuer().issue("alice", List.of(), Duration.ofMinutes(5)));
                }
                assertEquals(1, keyIds.size(), "every instance uses the same key");
                Path file = SigningKeys.keyFileIn(roundData);
                assertEquals(1, JWKSet.load(file.toFile()).getKeys().size());
                assertEquals(keyIds.iterator().next(), JWKSet.load(file.toFile()).getKeys().get(0).getKeyID());
                TokenVerifier fresh = SigningKeys.openOrCreate(roundData).verifier();
                for (String token : tokens) fresh.verify(token);
                try (Stream<Path> files = Files.list(file.getParent())) {
                    assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void everyKeyVerifiesAndTheFirstSigns() throws Exception {
        SigningKeys old = SigningKeys.openOrCreate(data);
        String oldToken = old.issuer().issue("alice", List.of(), Duration.ofMinutes(5));
        ECKey previous = (ECKey) JWKSet.load(old.file().toFile()).getKeys().get(0);
        ECKey next = new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
        Files.writeString(old.file(), new JWKSet(List.of(next, previous)).toString(false));

        SigningKeys rotated = SigningKeys.openOrCreate(data);

        assertEquals(next.getKeyID(), rotated.signingKeyId());
        assertEquals(List.of(next.getKeyID(), previous.getKeyID()), rotated.keyIds());
        rotated.verifier().verify(oldToken);
        String newToken = rotated.issuer().issue("alice", List.of(), Duration.ofMinutes(5));
        assertEquals(next.getKeyID(), SignedJWT.parse(newToken).getHeader().getKeyID());
    }

    @Test
    void aRunningVerifierPicksUpAddedKeys() throws Exception {
        SigningKeys running = SigningKeys.openOrCreate(data);
        TokenVerifier verifier = running.verifier();
        verifier.verify(running.issuer().issue("alice", List.of(), Duration.ofMinutes(5)));
        ECKey previous = (ECKey) JWKSet.load(running.file().toFile()).getKeys().get(0);
        ECKey added = new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
        Path rewritten = running.file().resolveSibling("new.jwks");
        Files.writeString(rewritten, new JWKSet(List.of(added, previous)).toString(false));
        Files.move(rewritten, running.file(), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        String fromAnotherNode = SigningKeys.openOrCreate(data).issuer().issue("bob", List.of(), Duration.ofMinutes(5));

        Thread.sleep(KeyFile.RECHECK_INTERVAL.toMillis() + 200);

        assertEquals("bob", verifier.verify(fromAnotherNode).uid());
    }

    @Test
    void aNodeWithPublicKeysOnlyVerifiesButDoesNotMint() throws Exception {
        SigningKeys full = SigningKeys.openOrCreate(data);
        String token = full.issuer().issue("alice", List.of(), Duration.ofMinutes(5));
        Path publicOnly = data.resolve("public.jwks");
        Files.writeString(publicOnly, JWKSet.load(full.file().toFile()).toPublicJWKSet().toString());

        SigningKeys verifyOnly = SigningKeys.openOrCreateFile(publicOnly);

        assertEquals("alice", verifyOnly.verifier().verify(token).uid());
        assertThrows(IllegalStateException.class, () -> verifyOnly.issuer().issue("alice", List.of(), Duration.ofMinutes(5)));
    }

    @Test
    void refusesUnusableKeyFiles() throws Exception {
        Path file = data.resolve("bad.jwks");
        for (String content : List.of("not json", "{}", "{\"keys\":[]}",
                new JWKSet(new RSAKeyGenerator(2048).generate()).toString(false),
                new JWKSet(new ECKeyGenerator(Curve.P_384).generate()).toString(false))) {
            Files.writeString(file, content);
            IOException e = assertThrows(IOException.class, () -> SigningKeys.openOrCreateFile(file));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("same").generate();
        ECKey twin = new ECKeyGenerator(Curve.P_256).keyID("same").generate();
        Files.writeString(file, new JWKSet(List.of(key, twin)).toString(false));
        assertThrows(IOException.class, () -> SigningKeys.openOrCreateFile(file));
    }

    @Test
    void keysWithoutKidGetTheirThumbprint() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_256).generate();
        Path file = data.resolve("nokid.jwks");
        Files.writeString(file, new JWKSet(key).toString(false));

        SigningKeys keys = SigningKeys.openOrCreateFile(file);

        assertEquals(key.computeThumbprint().toString(), keys.signingKeyId());
        assertEquals("alice", keys.verifier().verify(keys.issuer().issue("alice", List.of(), Duration.ofMinutes(1))).uid());
    }

    @Test
    void differentDataDirectoriesGetDifferentKeys(@TempDir Path other) throws Exception {
        assertNotEquals(SigningKeys.openOrCreate(data).signingKeyId(), SigningKeys.openOrCreate(other).signingKeyId());
    }

    @Test
    void theComponentDefaultsToTheDataDirectory() {
        assertEquals(Path.of("/srv/ecloud/secrets/token-signing.jwks"),
                AccessTokenService.keyFilePath("", "/srv/ecloud"));
        assertEquals(Path.of("data/secrets/token-signing.jwks").toAbsolutePath(),
                AccessTokenService.keyFilePath("", null));
        assertEquals(Path.of("/etc/keys.jwks"), AccessTokenService.keyFilePath(" /etc/keys.jwks ", "/srv/ecloud"));
    }
}
