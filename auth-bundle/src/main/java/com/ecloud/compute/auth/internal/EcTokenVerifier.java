package com.ecloud.compute.auth.internal;

import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import com.ecloud.compute.auth.Grant;
import com.ecloud.compute.auth.InvalidTokenException;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.Scopes;
import com.ecloud.compute.auth.TokenVerifier;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;

/**
 * Verifies tokens step by step rather than through nimbus's DefaultJWTProcessor, so that exactly these rules
 * hold: a signed JWS (never {@code alg: none}, never encrypted), algorithm ES256 only (no HMAC, whatever key
 * bytes it was made with), a {@code kid} naming a key of the key file, a valid signature, {@code exp} present
 * and not passed (with the configured clock skew), {@code nbf}/{@code iat} not in the future, a valid
 * {@code sub} and {@code scope}. Messages say what is wrong and never repeat the token or its claims.
 */
public final class EcTokenVerifier implements TokenVerifier {

    public static final String SCOPE_CLAIM = "scope";

    /** Our tokens are a few hundred bytes; anything this large is not one of them. */
    static final int MAX_TOKEN_LENGTH = 8192;

    private static final int MAX_CACHED = 10_000;
    private final java.util.Map<String, Verified> verified = new java.util.concurrent.ConcurrentHashMap<>();
    private final KeyFile keyFile;
    private final Duration clockSkew;
    private final Clock clock;

    public EcTokenVerifier(KeyFile keyFile, Duration clockSkew, Clock clock) {
        this.keyFile = keyFile;
        this.clockSkew = clockSkew.isNegative() ? Duration.ZERO : clockSkew;
        this.clock = clock;
    }

    @Override
    public Principal verify(String token) throws InvalidTokenException {
        if (token == null || token.isBlank()) throw new InvalidTokenException("missing token");
        if (token.length() > MAX_TOKEN_LENGTH) throw new InvalidTokenException("malformed token");
        // an ES256 check costs ~1.5 ms of CPU: a token already verified with the current keys is only re-checked
        // for expiry (the exact same string, so nothing in it can have changed)
        SigningKeySet keys = keyFile.keys();
        Verified known = verified.get(token);
        if (known != null && known.keys() == keys && !clock.instant().isAfter(known.principal().expiresAt().plus(clockSkew))) {
            return known.principal();
        }
        Principal principal = verifyFully(token, keys);
        if (verified.size() >= MAX_CACHED) verified.clear(); // bounded; a full cache starts over
        verified.put(token, new Verified(principal, keys));
        return principal;
    }

    private record Verified(Principal principal, SigningKeySet keys) {
    }

    private Principal verifyFully(String token, SigningKeySet keys) throws InvalidTokenException {

        JWT parsed;
        try {
            parsed = JWTParser.parse(token.trim());
        } catch (ParseException | RuntimeException e) {
            throw new InvalidTokenException("malformed token");
        }
        if (!(parsed instanceof SignedJWT jwt)) {
            // PlainJWT is "alg: none"; EncryptedJWT is not ours either
            throw new InvalidTokenException("token is not signed (only ES256 is accepted)");
        }
        JWSHeader header = jwt.getHeader();
        if (!JWSAlgorithm.ES256.equals(header.getAlgorithm())) {
            throw new InvalidTokenException("token algorithm is not accepted (only ES256 is)");
        }
        if (header.getType() != null && !JOSEObjectType.JWT.equals(header.getType())) {
            throw new InvalidTokenException("token type is not JWT");
        }
        String kid = header.getKeyID();
        if (kid == null || kid.isBlank()) throw new InvalidTokenException("token has no key id (kid)");
        JWSVerifier verifier = keys.verifierFor(kid);
        if (verifier == null) throw new InvalidTokenException("token is signed with an unknown key");
        boolean valid;
        try {
            // ECDSAVerifier also refuses unknown "crit" header parameters and malformed signatures
            valid = jwt.verify(verifier);
        } catch (JOSEException | RuntimeException e) {
            valid = false;
        }
        if (!valid) throw new InvalidTokenException("token signature is invalid");

        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new InvalidTokenException("malformed token claims");
        }
        Instant now = clock.instant();
        Date expiry = claims.getExpirationTime();
        if (expiry == null) throw new InvalidTokenException("token has no expiry (exp)");
        if (now.isAfter(expiry.toInstant().plus(clockSkew))) throw new InvalidTokenException("token has expired");
        Date notBefore = claims.getNotBeforeTime();
        if (notBefore != null && now.plus(clockSkew).isBefore(notBefore.toInstant())) {
            throw new InvalidTokenException("token is not valid yet (nbf)");
        }
        Date issuedAt = claims.getIssueTime();
        if (issuedAt != null && now.plus(clockSkew).isBefore(issuedAt.toInstant())) {
            throw new InvalidTokenException("token is issued in the future (iat)");
        }
        String uid = claims.getSubject();
        if (!Scopes.isValidUid(uid)) throw new InvalidTokenException("token has no valid subject (sub)");
        List<Grant> grants;
        try {
            Object scope = claims.getClaim(SCOPE_CLAIM);
            if (!(scope instanceof String text)) throw new IllegalArgumentException("not a string");
            grants = Scopes.parse(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidTokenException("token has no valid scope");
        }
        return new Principal(uid, grants, expiry.toInstant());
    }
}
