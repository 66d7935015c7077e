package com.ecloud.compute.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import javax.sql.DataSource;

import com.ecloud.compute.api.model.SshKey;
import com.ecloud.compute.api.store.ConflictException;
import com.ecloud.compute.api.store.KeyStore;
import com.ecloud.compute.api.store.LimitExceededException;

/** SSH keys in {@code ssh_keys}; their attachments to containers in {@code container_keys}. */
final class JdbcKeyStore implements KeyStore {

    private static final String COLUMNS = "k.id, k.owner_id, k.name, k.public_key, k.fingerprint, k.created_at";

    private static final String COUNT_OWNED = "SELECT COUNT(*) FROM ssh_keys WHERE owner_id = ?";
    private static final String FIND_FINGERPRINT = "SELECT id FROM ssh_keys WHERE owner_id = ? AND fingerprint = ?";
    private static final String INSERT =
            "INSERT INTO ssh_keys (owner_id, name, public_key, fingerprint, created_at) VALUES (?, ?, ?, ?, ?)";
    private static final String LIST = "SELECT " + COLUMNS + " FROM ssh_keys k WHERE k.owner_id = ? ORDER BY k.created_at, k.id";
    private static final String FIND = "SELECT " + COLUMNS + " FROM ssh_keys k WHERE k.owner_id = ? AND k.id = ?";
    private static final String ATTACHED_TO = "SELECT " + COLUMNS
            + " FROM ssh_keys k JOIN container_keys ck ON ck.key_id = k.id WHERE ck.container_id = ? ORDER BY k.id";
    private static final String CONTAINERS_OF_KEY =
            "SELECT container_id FROM container_keys WHERE key_id = ? ORDER BY container_id";
    private static final String DELETE = "DELETE FROM ssh_keys WHERE owner_id = ? AND id = ?";

    private final Transactions transactions;

    JdbcKeyStore(DataSource dataSource) {
        this.transactions = new Transactions(dataSource);
    }

    @Override
    public SshKey add(String ownerId, String name, String publicKey, String fingerprint, int maxPerOwner) {
        Objects.requireNonNull(ownerId, "ownerId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(publicKey, "publicKey");
        Objects.requireNonNull(fingerprint, "fingerprint");
        return transactions.run("add SSH key", connection -> {
            OwnerLocks.lock(connection, ownerId);
            if (hasFingerprint(connection, ownerId, fingerprint)) {
                throw duplicate(fingerprint);
            }
            int owned = count(connection, ownerId);
            if (owned >= maxPerOwner) {
                throw new LimitExceededException("you already have " + owned + " SSH keys, the most allowed is "
                        + maxPerOwner + "; delete one first");
            }
            Instant createdAt = Timestamps.stored(Instant.now());
            try (PreparedStatement insert = connection.prepareStatement(INSERT, new String[] {"id"})) {
                insert.setString(1, ownerId);
                insert.setString(2, name);
                insert.setString(3, publicKey);
                insert.setString(4, fingerprint);
                Timestamps.set(insert, 5, createdAt);
                insert.executeUpdate();
                try (ResultSet keys = insert.getGeneratedKeys()) {
                    keys.next();
                    return new SshKey(keys.getLong(1), ownerId, name, publicKey, fingerprint, createdAt);
                }
            } catch (SQLException e) {
                // Not expected under the owner lock; the unique constraint is the last line of defence
                if (SqlFailures.isUniqueViolation(e)) throw duplicate(fingerprint);
                throw e;
            }
        });
    }

    private static ConflictException duplicate(String fingerprint) {
        return new ConflictException("you already have an SSH key with fingerprint " + fingerprint);
    }

    private static boolean hasFingerprint(Connection connection, String ownerId, String fingerprint)
            throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(FIND_FINGERPRINT)) {
            query.setString(1, ownerId);
            query.setString(2, fingerprint);
            try (ResultSet row = query.executeQuery()) {
                return row.next();
            }
        }
    }

    private static int count(Connection connection, String ownerId) throws SQLException {
        try (PreparedStatement count = connection.prepareStatement(COUNT_OWNED)) {
            count.setString(1, ownerId);
            try (ResultSet row = count.executeQuery()) {
                row.next();
                return row.getInt(1);
            }
        }
    }

    @Override
    public List<SshKey> list(String ownerId) {
        return transactions.run("list SSH keys", connection -> {
            try (PreparedStatement query = connection.prepareStatement(LIST)) {
                query.setString(1, ownerId);
                return readAll(query);
            }
        });
    }

    @Override
    public Optional<SshKey> find(String ownerId, long id) {
        return transactions.run("find SSH key " + id, connection -> find(connection, ownerId, id));
    }

    private static Optional<SshKey> find(Connection connection, String ownerId, long id) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(FIND)) {
            query.setString(1, ownerId);
            query.setLong(2, id);
            List<SshKey> keys = readAll(query);
            return keys.isEmpty() ? Optional.empty() : Optional.of(keys.get(0));
        }
    }

    @Override
    public List<SshKey> findAll(String ownerId, Collection<Long> ids) {
        Set<Long> wanted = new TreeSet<>(ids);
        if (wanted.isEmpty()) return List.of();
        return transactions.run("find SSH keys", connection -> {
            List<SshKey> found = new ArrayList<>();
            for (long id : wanted) {
                find(connection, ownerId, id).ifPresent(found::add);
            }
            return found;
        });
    }

    @Override
    public List<SshKey> attachedTo(String containerId) {
        return transactions.run("list the SSH keys of container " + containerId, connection -> {
            try (PreparedStatement query = connection.prepareStatement(ATTACHED_TO)) {
                query.setString(1, containerId);
                return readAll(query);
            }
        });
    }

    @Override
    public Optional<List<String>> delete(String ownerId, long id) {
        return transactions.run("delete SSH key " + id, connection -> {
            // Under the owner's lock no container of this owner can be attaching the key meanwhile, so the
            // containers read here are exactly those the delete detaches it from
            if (!OwnerLocks.lockExisting(connection, ownerId)) return Optional.empty();
            List<String> containerIds = new ArrayList<>();
            try (PreparedStatement query = connection.prepareStatement(CONTAINERS_OF_KEY)) {
                query.setLong(1, id);
                try (ResultSet rows = query.executeQuery()) {
                    while (rows.next()) containerIds.add(rows.getString(1));
                }
            }
            try (PreparedStatement delete = connection.prepareStatement(DELETE)) {
                delete.setString(1, ownerId);
                delete.setLong(2, id);
                if (delete.executeUpdate() == 0) return Optional.empty();
            }
            // container_keys rows go with the key (ON DELETE CASCADE)
            return Optional.of(List.copyOf(containerIds));
        });
    }

    private static List<SshKey> readAll(PreparedStatement query) throws SQLException {
        List<SshKey> keys = new ArrayList<>();
        try (ResultSet row = query.executeQuery()) {
            while (row.next()) {
                keys.add(new SshKey(row.getLong("id"), row.getString("owner_id"), row.getString("name"),
                        row.getString("public_key"), row.getString("fingerprint"), Timestamps.get(row, "created_at")));
            }
        }
        return keys;
    }
}
