package com.ecloud.compute.auth.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;

/**
 * One reading of the key file: the first key signs, every key verifies. Immutable; nimbus's ECDSA signer and
 * verifiers are thread-safe, so one instance serves every request.
 */
public final class SigningKeySet {

    private final String signingKeyId;
    private final JWSSigner signer;
    private final Map<String, JWSVerifier> verifiersByKeyId;

    private SigningKeySet(String signingKeyId, JWSSigner signer, Map<String, JWSVerifier> verifiersByKeyId) {
        this.signingKeyId = signingKeyId;
        this.signer = signer;
        // insertion order kept: the signing key first, as in the file
        this.verifiersByKeyId = Collections.unmodifiableMap(new LinkedHashMap<>(verifiersByKeyId));
    }

    /**
     * @throws IllegalArgumentException when the set is empty, holds anything but EC P-256 signature keys, or
     *                                  two keys share an id
     */
    public static SigningKeySet of(JWKSet set) {
        List<JWK> keys = set.getKeys();
        if (keys.isEmpty()) throw new IllegalArgumentException("it holds no key");
        Map<String, JWSVerifier> verifiers = new LinkedHashMap<>();
        String signingKeyId = null;
        JWSSigner signer = null;
        for (JWK jwk : keys) {
            if (!(jwk instanceof ECKey ec) || !Curve.P_256.equals(ec.getCurve())) {
                throw new IllegalArgumentException("every key must be an EC P-256 key (ES256)");
            }
            if (jwk.getAlgorithm() != null && !JWSAlgorithm.ES256.equals(jwk.getAlgorithm())) {
                throw new IllegalArgumentException("a key is marked for another algorithm than ES256");
            }
            if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
                throw new IllegalArgumentException("a key is marked for another use than signatures");
            }
            String kid = keyIdOf(ec);
            try {
                if (verifiers.put(kid, new ECDSAVerifier(ec.toPublicJWK())) != null) {
                    throw new IllegalArgumentException("two keys share the key id " + kid);
                }
                if (signingKeyId == null) {
                    signingKeyId = kid;
                    // a node that only verifies may hold public keys only; it cannot mint
                    signer = ec.isPrivate() ? new ECDSASigner(ec) : null;
                }
            } catch (JOSEException e) {
                throw new IllegalArgumentException("a key is not usable for ES256: " + e.getMessage(), e);
            }
        }
        return new SigningKeySet(signingKeyId, signer, verifiers);
    }

    /** The key's own {@code kid}, or its RFC 7638 thumbprint when it has none (the same on every node). */
    static String keyIdOf(ECKey key) {
        if (key.getKeyID() != null && !key.getKeyID().isBlank()) return key.getKeyID();
        try {
            return key.computeThumbprint().toString();
        } catch (JOSEException e) {
            throw new IllegalArgumentException("cannot compute a key id: " + e.getMessage(), e);
        }
    }

    public String signingKeyId() {
        return signingKeyId;
    }

    /** @return the signer of the first key, or null when that key has no private part */
    public JWSSigner signer() {
        return signer;
    }

    /** @return the verifier for {@code kid}, or null for an unknown key */
    public JWSVerifier verifierFor(String kid) {
        return verifiersByKeyId.get(kid);
    }

    public List<String> keyIds() {
        return List.copyOf(verifiersByKeyId.keySet());
    }
}
