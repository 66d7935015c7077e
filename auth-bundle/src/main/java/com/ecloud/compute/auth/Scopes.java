package com.ecloud.compute.auth;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The syntax of user ids and of the {@code scope} claim: space-separated {@code RESOURCE:ACTION[,ACTION]} items,
 * e.g. {@code compute.alice:read,create,update,delete compute.bob.keys:read}. A resource is a dotted name that
 * starts with {@code compute}; actions are read, create, update and delete.
 */
public final class Scopes {

    /** User ids, as the {@code sub} claim carries them. */
    public static final Pattern UID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    /** {@code compute} followed by any number of {@code .segment}, each segment shaped like a uid. */
    public static final Pattern RESOURCE = Pattern.compile("compute(\\.[a-z0-9][a-z0-9_-]{0,62})*");

    /** Canonical order of actions when a scope is written. */
    private static final List<String> ACTION_ORDER = List.of("read", "create", "update", "delete");

    private static final int MAX_RESOURCE_LENGTH = 512;

    private Scopes() {
    }

    public static boolean isValidUid(String uid) {
        return uid != null && UID.matcher(uid).matches();
    }

    public static boolean isValidResource(String resource) {
        return resource != null && resource.length() <= MAX_RESOURCE_LENGTH && RESOURCE.matcher(resource).matches();
    }

    /** The scope a token gets when none is asked for: {@code compute.<uid>} with every action. */
    public static List<Grant> fullScopeOf(String uid) {
        if (!isValidUid(uid)) throw new IllegalArgumentException("invalid user id");
        return List.of(new Grant("compute." + uid, Grant.ALL_ACTIONS));
    }

    /**
     * @param item {@code RESOURCE:ACTION[,ACTION]}
     * @throws IllegalArgumentException when the item is not of that shape; the message does not repeat it
     */
    public static Grant parseGrant(String item) {
        if (item == null) throw new IllegalArgumentException("scope item is missing");
        int colon = item.indexOf(':');
        if (colon < 0) throw new IllegalArgumentException("scope item must be RESOURCE:ACTION[,ACTION]");
        String resource = item.substring(0, colon);
        if (!isValidResource(resource)) {
            throw new IllegalArgumentException("scope resource must be a dotted name starting with 'compute'");
        }
        Set<String> actions = new LinkedHashSet<>();
        // split with limit -1 keeps empty strings, so "read," and ",read" are refused
        for (String action : item.substring(colon + 1).split(",", -1)) {
            if (!Grant.ALL_ACTIONS.contains(action)) {
                throw new IllegalArgumentException("scope actions must be some of read, create, update, delete");
            }
            actions.add(action);
        }
        return new Grant(resource, actions);
    }

    /**
     * @param scope space-separated grants, at least one
     * @throws IllegalArgumentException when the scope is empty or one of its items is invalid
     */
    public static List<Grant> parse(String scope) {
        if (scope == null || scope.isBlank()) throw new IllegalArgumentException("scope is empty");
        List<Grant> grants = new ArrayList<>();
        for (String item : scope.trim().split(" +")) {
            grants.add(parseGrant(item));
        }
        return List.copyOf(grants);
    }

    /** Writes grants as a {@code scope} claim; the inverse of {@link #parse(String)}. */
    public static String format(List<Grant> grants) {
        if (grants.isEmpty()) throw new IllegalArgumentException("scope is empty");
        StringBuilder scope = new StringBuilder();
        for (Grant grant : grants) {
            if (!isValidResource(grant.resource())) {
                throw new IllegalArgumentException("scope resource must be a dotted name starting with 'compute'");
            }
            if (grant.actions().isEmpty() || !Grant.ALL_ACTIONS.containsAll(grant.actions())) {
                throw new IllegalArgumentException("scope actions must be some of read, create, update, delete");
            }
            if (scope.length() > 0) scope.append(' ');
            scope.append(grant.resource()).append(':');
            String separator = "";
            for (String action : ACTION_ORDER) {
                if (grant.actions().contains(action)) {
                    scope.append(separator).append(action);
                    separator = ",";
                }
            }
        }
        return scope.toString();
    }
}
