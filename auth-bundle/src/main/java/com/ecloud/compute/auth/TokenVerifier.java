package com.ecloud.compute.auth;

import org.osgi.annotation.versioning.ProviderType;

/** Verifies access tokens: signature by a known key ({@code kid}), algorithm, expiry, subject and scope syntax. */
@ProviderType
public interface TokenVerifier {

    /**
     * @param token the compact JWT as sent in {@code Authorization: Bearer} or {@code ?token=}
     * @return the caller
     * @throws InvalidTokenException missing, malformed, expired, tampered, wrongly signed or unsigned
     *                               ({@code alg: none}) tokens; the message says which, without echoing the token
     */
    Principal verify(String token) throws InvalidTokenException;
}
