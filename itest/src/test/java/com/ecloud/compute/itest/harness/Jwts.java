package com.ecloud.compute.itest.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPrivateKeySpec;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Hand-made JWTs for the refusal cases the token command cannot produce (alg none, tampered parts, long expired):
 * built and ES256-signed here from the platform's key file format (a JWK Set), not with the platform's code.
 */
public final class Jwts {

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder D64 = Base64.getUrlDecoder();

    private Jwts() {
    }

    public static ObjectNode header(String token) {
        return (ObjectNode) part(token, 0);
    }

    public static ObjectNode claims(String token) {
        return (ObjectNode) part(token, 1);
    }

    private static JsonNode part(String token, int index) {
        try {
            return Api.JSON.readTree(D64.decode(token.split("\\.")[index]));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String encode(JsonNode json) {
        try {
            return B64.encodeToString(Api.JSON.writeValueAsBytes(json));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code header.claims.signature} with the given raw parts. */
    public static String assemble(JsonNode header, JsonNode claims, String signature) {
        return encode(header) + "." + encode(claims) + "." + signature;
    }

    public static String signature(String token) {
        return token.split("\\.", -1)[2];
    }

    /** Signs header and claims with ES256 using the first key of {@code <data>/secrets/token-signing.jwks}. */
    public static String signWithDataKey(Path dataDir, ObjectNode header, JsonNode claims) {
        try {
            JsonNode jwk = Api.JSON.readTree(dataDir.resolve("secrets/token-signing.jwks").toFile()).path("keys").get(0);
            if (jwk == null || !jwk.has("d")) throw new AssertionError("the key file holds no private EC key: " + dataDir);
            header.put("kid", jwk.path("kid").asText());
            AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
            params.init(new ECGenParameterSpec("secp256r1"));
            ECParameterSpec curve = params.getParameterSpec(ECParameterSpec.class);
            PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(
                    new ECPrivateKeySpec(new BigInteger(1, D64.decode(jwk.path("d").asText())), curve));
            String signingInput = encode(header) + "." + encode(claims);
            Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
            s.initSign(key);
            s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + B64.encodeToString(s.sign());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new AssertionError("cannot sign with the data directory's key", e);
        }
    }
}
