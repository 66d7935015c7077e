package com.ecloud.compute.auth;

import java.util.Set;

/**
 * Permission to perform {@code actions} on {@code resource} and everything beneath it: {@code compute.alice}
 * covers {@code compute.alice.containers.abc12345}, but not {@code compute.alicex}.
 *
 * @param resource dotted resource name, e.g. {@code compute.alice.containers}
 * @param actions  some of read, create, update, delete
 */
public record Grant(String resource, Set<String> actions) {

    /** Every action a grant can carry. */
    public static final Set<String> ALL_ACTIONS = Set.of("read", "create", "update", "delete");

    public Grant {
        actions = Set.copyOf(actions);
    }

    /** Whether this grant allows {@code action} on {@code target}. */
    public boolean covers(String target, String action) {
        if (!actions.contains(action)) return false;
        return target.equals(resource) || (target.startsWith(resource) && target.charAt(resource.length()) == '.');
    }
}
