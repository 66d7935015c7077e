package com.ecloud.compute.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/**
 * The per-user lock behind the limits: a transaction that counts and then inserts an owner's rows first locks
 * the owner's row in {@code owners} (SELECT ... FOR UPDATE), so concurrent ones by one owner run one after the
 * other and each counts what the previous one committed. Works the same on H2 and PostgreSQL.
 */
final class OwnerLocks {

    private static final String LOCK =
            "SELECT id FROM owners WHERE id = ? FOR UPDATE";
    private static final String INSERT =
            "INSERT INTO owners (id, created_at) VALUES (?, ?)";

    /** First uses of one owner racing each other: how often to look for the row another one committed. */
    private static final int MAX_ATTEMPTS = 50;

    private OwnerLocks() {
    }

    /**
     * Locks the owner's row until the transaction ends, creating it on the owner's first use. Must be the
     * first statement of the transaction: creating the row ends the transaction that was open.
     */
    static void lock(Connection connection, String ownerId) throws SQLException {
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            if (lockExisting(connection, ownerId)) return;
            // First use. The row is inserted and committed on its own, so that every concurrent first use locks
            // the same committed row; losing that race (a duplicate key) is fine: the row is there.
            connection.rollback();
            connection.setAutoCommit(true);
            try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
                insert.setString(1, ownerId);
                Timestamps.set(insert, 2, Instant.now());
                insert.executeUpdate();
            } catch (SQLException e) {
                if (!SqlFailures.isUniqueViolation(e)) throw e;
                pauseBriefly(); // the winner's row may not be visible for an instant
            } finally {
                connection.setAutoCommit(false);
            }
        }
        throw new SQLException("the row of owner " + ownerId + " cannot be locked", "55000");
    }

    private static void pauseBriefly() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Locks the owner's row if it exists; false when the owner never stored anything. */
    static boolean lockExisting(Connection connection, String ownerId) throws SQLException {
        try (PreparedStatement lock = connection.prepareStatement(LOCK)) {
            lock.setString(1, ownerId);
            try (ResultSet row = lock.executeQuery()) {
                return row.next();
            }
        }
    }
}
