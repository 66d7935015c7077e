package com.ecloud.compute.auth;

import java.time.Duration;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** Mints access tokens with the current signing key. */
@ProviderType
public interface TokenIssuer {

    /**
     * @param uid    user id, matching {@code [a-z0-9][a-z0-9_-]{0,62}}
     * @param grants what the token allows; empty means the user's full scope {@code compute.<uid>} with every
     *               action
     * @param ttl    lifetime, positive
     * @return the compact JWT
     * @throws IllegalArgumentException an invalid uid, grant or ttl
     */
    String issue(String uid, List<Grant> grants, Duration ttl);
}
