package com.ecloud.compute.store.internal;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.sql.SQLNonTransientConnectionException;

/** What a SQLException means, on H2 and PostgreSQL alike (by SQLSTATE, with H2's own codes where it differs). */
final class SqlFailures {

    private SqlFailures() {
    }

    /** A unique or primary key constraint refused the row. */
    static boolean isUniqueViolation(SQLException e) {
        return "23505".equals(e.getSQLState());
    }

    /** A foreign key refused the row: what it refers to does not exist (any more). */
    static boolean isMissingReference(SQLException e) {
        // PostgreSQL says 23503 for both directions; H2 says 23506 for "parent missing"
        return "23503".equals(e.getSQLState()) || "23506".equals(e.getSQLState());
    }

    /** The transaction lost a race the database could not order (deadlock, serialization failure): retry it. */
    static boolean isRetryable(SQLException e) {
        String state = e.getSQLState();
        return "40001".equals(state)     // serialization failure; H2 uses it for deadlocks too
                || "40P01".equals(state) // PostgreSQL deadlock
                || "90131".equals(state);  // H2: row changed by a concurrent transaction
    }

    /** The database could not be reached, or the connection broke. */
    static boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        return e instanceof SQLTransientConnectionException
                || e instanceof SQLNonTransientConnectionException
                || e instanceof SQLRecoverableException
                || state != null && (state.startsWith("08")     // connection exception
                        || state.startsWith("57P")               // PostgreSQL shutting down / starting up
                        || state.startsWith("53"))               // PostgreSQL out of resources (connections)
                || "90067".equals(state) || "90098".equals(state); // H2: connection broken, database closed
    }

    /** A lock was not granted in time (H2's LOCK_TIMEOUT, PostgreSQL's lock_timeout). */
    static boolean isLockTimeout(SQLException e) {
        return "HYT00".equals(e.getSQLState()) || "55P03".equals(e.getSQLState());
    }
}
