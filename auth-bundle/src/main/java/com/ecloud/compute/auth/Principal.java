package com.ecloud.compute.auth;

import java.time.Instant;
import java.util.List;

/**
 * The verified caller of a request.
 *
 * @param uid       the user id ({@code sub})
 * @param grants    what the token allows
 * @param expiresAt when the token expires
 */
public record Principal(String uid, List<Grant> grants, Instant expiresAt) {

    public Principal {
        grants = List.copyOf(grants);
    }

    /** Whether any grant allows {@code action} on {@code resource}. */
    public boolean permits(String resource, String action) {
        for (Grant g : grants) {
            if (g.covers(resource, action)) return true;
        }
        return false;
    }
}
