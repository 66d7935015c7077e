package com.ecloud.compute.auth.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import com.ecloud.compute.auth.Grant;
import com.ecloud.compute.auth.Scopes;
import com.ecloud.compute.auth.TokenIssuer;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

/** Mints ES256 JWTs with the first key of the key file. */
public final class EcTokenIssuer implements TokenIssuer {

    /** Longer lifetimes are refused: they are surely a mistake (and would overflow a date). */
    static final Duration MAX_TTL = Duration.ofDays(3660);

    private final KeyFile keyFile;
    private final Clock clock;

    public EcTokenIssuer(KeyFile keyFile, Clock clock) {
        this.keyFile = keyFile;
        this.clock = clock;
    }

    @Override
    public String issue(String uid, List<Grant> grants, Duration ttl) {
        if (!Scopes.isValidUid(uid)) throw new IllegalArgumentException("uid must match " + Scopes.UID.pattern());
        if (ttl == null || ttl.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("ttl must be at least one second");
        }
        if (ttl.compareTo(MAX_TTL) > 0) throw new IllegalArgumentException("ttl must be at most " + MAX_TTL.toDays() + " days");
        String scope = Scopes.format(grants == null || grants.isEmpty() ? Scopes.fullScopeOf(uid) : grants);

        SigningKeySet keys = keyFile.keys();
        JWSSigner signer = keys.signer();
        if (signer == null) {
            throw new IllegalStateException("The first key of " + keyFile.path()
                    + " has no private part: this node can verify tokens but not mint them");
        }
        // JWT times are whole seconds: round now down so that iat is never in the future
        Instant now = clock.instant().with(java.time.temporal.ChronoField.NANO_OF_SECOND, 0);
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .subject(uid)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .claim(EcTokenVerifier.SCOPE_CLAIM, scope)
                .build();
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID(keys.signingKeyId())
                .type(JOSEObjectType.JWT)
                .build();
        SignedJWT jwt = new SignedJWT(header, claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a token with key " + keys.signingKeyId(), e);
        }
        return jwt.serialize();
    }
}
