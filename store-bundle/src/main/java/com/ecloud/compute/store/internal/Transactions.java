package com.ecloud.compute.store.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ThreadLocalRandom;

import javax.sql.DataSource;

import com.ecloud.compute.api.store.ConflictException;
import com.ecloud.compute.api.store.StoreUnavailableException;

/**
 * Runs one unit of work in one read-committed transaction: commits when it returns, rolls back when it throws,
 * retries it when the database reports a deadlock or serialization failure, and turns SQL failures into the
 * store's exceptions.
 */
final class Transactions {

    /** Attempts of one unit of work that keeps losing deadlocks before giving up. */
    private static final int MAX_ATTEMPTS = 5;

    private final DataSource dataSource;

    Transactions(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** A unit of work on a connection that is in a transaction (auto-commit off). */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /**
     * Runs {@code work} and commits. ConflictException, LimitExceededException and other runtime exceptions of
     * the work roll back and propagate unchanged.
     *
     * @param operation what is being done, for messages ("create container")
     */
    <T> T run(String operation, Work<T> work) {
        for (int attempt = 1; ; attempt++) {
            try {
                return runOnce(work);
            } catch (SQLException e) {
                if (SqlFailures.isRetryable(e) && attempt < MAX_ATTEMPTS) {
                    pause(attempt);
                    continue;
                }
                throw translate(operation, e);
            }
        }
    }

    private <T> T runOnce(Work<T> work) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            if (connection.getAutoCommit()) connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                rollbackQuietly(connection, e);
                throw e;
            }
        }
    }

    private static void rollbackQuietly(Connection connection, Throwable cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            cause.addSuppressed(rollbackFailure);
        }
    }

    /** Backs off a little, with jitter, so that the transactions that collided do not collide again. */
    private static void pause(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(5, 20L * attempt));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static RuntimeException translate(String operation, SQLException e) {
        if (SqlFailures.isUniqueViolation(e)) {
            return new ConflictException("cannot " + operation + ": it duplicates what is stored");
        }
        if (SqlFailures.isMissingReference(e)) {
            return new ConflictException("cannot " + operation + ": what it refers to no longer exists");
        }
        if (SqlFailures.isConnectionFailure(e)) {
            return new StoreUnavailableException("cannot " + operation + ": the database cannot be reached", e);
        }
        if (SqlFailures.isLockTimeout(e)) {
            return new StoreUnavailableException("cannot " + operation + ": the database is too busy", e);
        }
        if (SqlFailures.isRetryable(e)) {
            return new StoreUnavailableException("cannot " + operation + ": it keeps colliding with other changes", e);
        }
        return new StoreUnavailableException("cannot " + operation + ": the database failed (" + e.getSQLState() + ")", e);
    }
}
