package com.ecloud.compute.auth.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.ecloud.compute.auth.Grant;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.Scopes;

class ScopesTest {

    @Test
    void aGrantCoversItsResourceAndEverythingBeneath() {
        Grant alice = new Grant("compute.alice", Set.of("read"));
        assertTrue(alice.covers("compute.alice", "read"));
        assertTrue(alice.covers("compute.alice.containers", "read"));
        assertTrue(alice.covers("compute.alice.containers.abc12345", "read"));
        assertFalse(alice.covers("compute.alicex", "read"));
        assertFalse(alice.covers("compute.alicex.containers.abc12345", "read"));
        assertFalse(alice.covers("compute", "read"));
        assertFalse(alice.covers("compute.bob", "read"));
        assertFalse(alice.covers("compute.alice.containers.abc12345", "delete"));
    }

    @Test
    void aPrincipalPermitsWhatAnyGrantCovers() {
        Principal p = new Principal("alice", Scopes.parse("compute.alice.keys:read compute.alice.containers:read,delete"),
                Instant.EPOCH);
        assertTrue(p.permits("compute.alice.keys.k1", "read"));
        assertTrue(p.permits("compute.alice.containers.abc12345", "delete"));
        assertFalse(p.permits("compute.alice.keys.k1", "delete"));
        assertFalse(p.permits("compute.alice", "read"));
    }

    @Test
    void parsesAndFormatsScopes() {
        List<Grant> grants = Scopes.parse("compute.alice:read,create,update,delete  compute.bob.keys:read");
        assertEquals(List.of(new Grant("compute.alice", Grant.ALL_ACTIONS), new Grant("compute.bob.keys", Set.of("read"))),
                grants);
        assertEquals("compute.alice:read,create,update,delete compute.bob.keys:read", Scopes.format(grants));
        assertEquals("compute:read,delete", Scopes.format(List.of(Scopes.parseGrant("compute:delete,read,read"))));
        assertEquals(List.of(new Grant("compute.my_user-1", Grant.ALL_ACTIONS)), Scopes.fullScopeOf("my_user-1"));
    }

    @Test
    void refusesMalformedScopeItems() {
        for (String item : List.of("", "compute", "compute:", ":read", "compute.alice:READ", "compute.alice:read;delete",
                "compute.alice.:read", ".compute:read", "computer:read", "compute alice:read", "compute.alice:read,",
                "compute.-x:read", "compute.alice:read:delete")) {
            assertThrows(IllegalArgumentException.class, () -> Scopes.parseGrant(item), item);
        }
        assertThrows(IllegalArgumentException.class, () -> Scopes.parse(""));
        assertThrows(IllegalArgumentException.class, () -> Scopes.format(List.of()));
    }

    @Test
    void validatesUids() {
        for (String uid : List.of("a", "alice", "0", "a_b-c", "a".repeat(63))) assertTrue(Scopes.isValidUid(uid), uid);
        for (String uid : List.of("", "A", "_a", "-a", "a.b", "a b", "a".repeat(64), "é")) {
            assertFalse(Scopes.isValidUid(uid), uid);
        }
        assertFalse(Scopes.isValidUid(null));
    }
}
