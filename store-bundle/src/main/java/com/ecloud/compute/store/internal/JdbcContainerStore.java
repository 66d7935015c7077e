package com.ecloud.compute.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

import javax.sql.DataSource;

import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.model.InstanceType;
import com.ecloud.compute.api.store.ConflictException;
import com.ecloud.compute.api.store.ContainerStore;
import com.ecloud.compute.api.store.LimitExceededException;

/** Containers in {@code containers}, their mount paths in {@code container_mounts}, keys in {@code container_keys}. */
final class JdbcContainerStore implements ContainerStore {

    private static final String COLUMNS = "c.id, c.owner_id, c.name, c.status, c.status_reason, c.instance_type, "
            + "c.memory_mb, c.storage_gb, c.ssh_enabled, c.https_enabled, c.image, c.runtime_host, c.created_at";

    private static final String COUNT_OWNED = "SELECT COUNT(*) FROM containers WHERE owner_id = ?";
    private static final String INSERT = "INSERT INTO containers (id, owner_id, name, status, status_reason, "
            + "instance_type, memory_mb, storage_gb, ssh_enabled, https_enabled, image, runtime_host, created_at, "
            + "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_MOUNT =
            "INSERT INTO container_mounts (container_id, position, path) VALUES (?, ?, ?)";
    private static final String DELETE_MOUNTS = "DELETE FROM container_mounts WHERE container_id = ?";
    private static final String INSERT_KEY = "INSERT INTO container_keys (container_id, key_id) VALUES (?, ?)";
    private static final String OWNED_KEY = "SELECT id FROM ssh_keys WHERE id = ? AND owner_id = ?";
    private static final String DELETE = "DELETE FROM containers WHERE id = ?";
    private static final String LOCK_ONE = "SELECT " + COLUMNS + " FROM containers c WHERE c.id = ? FOR UPDATE";

    private final Transactions transactions;

    JdbcContainerStore(DataSource dataSource) {
        this.transactions = new Transactions(dataSource);
    }

    @Override
    public Container create(Container container, int maxPerOwner) {
        Objects.requireNonNull(container, "container");
        return transactions.run("create container " + container.id(), connection -> {
            OwnerLocks.lock(connection, container.ownerId());
            int owned = count(connection, container.ownerId());
            if (owned >= maxPerOwner) {
                throw new LimitExceededException("you already have " + owned + " containers, the most allowed is "
                        + maxPerOwner + "; delete one first");
            }
            // Sorted, as find() returns them
            Set<Long> keyIds = new TreeSet<>(container.sshKeyIds());
            for (Long keyId : keyIds) {
                if (!ownsKey(connection, container.ownerId(), keyId)) {
                    throw new ConflictException("SSH key " + keyId + " does not exist");
                }
            }
            Instant now = Instant.now();
            Container stored = new Container(container.id(), container.ownerId(), container.name(),
                    container.status(), container.statusReason(), container.instanceType(), container.memoryMb(),
                    container.storageGb(), container.sshEnabled(), container.httpsEnabled(), container.image(),
                    container.mountPaths(), List.copyOf(keyIds), container.runtimeHost(),
                    Timestamps.stored(container.createdAt()));
            insert(connection, stored, now);
            insertMounts(connection, stored.id(), stored.mountPaths());
            try (PreparedStatement insertKey = connection.prepareStatement(INSERT_KEY)) {
                for (Long keyId : keyIds) {
                    insertKey.setString(1, stored.id());
                    insertKey.setLong(2, keyId);
                    insertKey.addBatch();
                }
                if (!keyIds.isEmpty()) insertKey.executeBatch();
            }
            return stored;
        });
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

    private static boolean ownsKey(Connection connection, String ownerId, long keyId) throws SQLException {
        try (PreparedStatement owned = connection.prepareStatement(OWNED_KEY)) {
            owned.setLong(1, keyId);
            owned.setString(2, ownerId);
            try (ResultSet row = owned.executeQuery()) {
                return row.next();
            }
        }
    }

    private static void insert(Connection connection, Container c, Instant now) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
            insert.setString(1, c.id());
            insert.setString(2, c.ownerId());
            insert.setString(3, c.name());
            insert.setString(4, c.status().id());
            insert.setString(5, c.statusReason());
            insert.setString(6, c.instanceType().id());
            insert.setInt(7, c.memoryMb());
            insert.setInt(8, c.storageGb());
            insert.setBoolean(9, c.sshEnabled());
            insert.setBoolean(10, c.httpsEnabled());
            insert.setString(11, c.image());
            insert.setString(12, c.runtimeHost());
            Timestamps.set(insert, 13, c.createdAt());
            Timestamps.set(insert, 14, now);
            insert.executeUpdate();
        } catch (SQLException e) {
            if (SqlFailures.isUniqueViolation(e)) throw new ConflictException("container id " + c.id() + " is taken");
            throw e;
        }
    }

    private static void insertMounts(Connection connection, String containerId, List<String> paths)
            throws SQLException {
        if (paths.isEmpty()) return;
        try (PreparedStatement insert = connection.prepareStatement(INSERT_MOUNT)) {
            for (int i = 0; i < paths.size(); i++) {
                insert.setString(1, containerId);
                insert.setInt(2, i);
                insert.setString(3, paths.get(i));
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    @Override
    public Optional<Container> find(String id) {
        return transactions.run("find container " + id,
                connection -> first(select(connection, "c.id = ?", id)));
    }

    @Override
    public Optional<Container> findOwned(String ownerId, String id) {
        return transactions.run("find container " + id,
                connection -> first(select(connection, "c.id = ? AND c.owner_id = ?", id, ownerId)));
    }

    @Override
    public List<Container> listByOwner(String ownerId) {
        return transactions.run("list containers", connection -> select(connection, "c.owner_id = ?", ownerId));
    }

    @Override
    public List<Container> listAll() {
        return transactions.run("list containers", connection -> select(connection, "1 = 1"));
    }

    private static Optional<Container> first(List<Container> containers) {
        return containers.isEmpty() ? Optional.empty() : Optional.of(containers.get(0));
    }

    /**
     * The containers matching {@code where} (over alias {@code c}), oldest first, with their mount paths and
     * key ids: three queries whatever the number of containers.
     */
    private static List<Container> select(Connection connection, String where, String... parameters)
            throws SQLException {
        Map<String, Container> containers = new LinkedHashMap<>();
        try (PreparedStatement query = connection.prepareStatement(
                "SELECT " + COLUMNS + " FROM containers c WHERE " + where + " ORDER BY c.created_at, c.id")) {
            bind(query, parameters);
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    Container c = read(rows, List.of(), List.of());
                    containers.put(c.id(), c);
                }
            }
        }
        if (containers.isEmpty()) return List.of();
        Map<String, List<String>> mounts = new HashMap<>();
        try (PreparedStatement query = connection.prepareStatement("SELECT m.container_id, m.path "
                + "FROM container_mounts m JOIN containers c ON c.id = m.container_id WHERE " + where
                + " ORDER BY m.container_id, m.position")) {
            bind(query, parameters);
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    mounts.computeIfAbsent(rows.getString(1), k -> new ArrayList<>()).add(rows.getString(2));
                }
            }
        }
        Map<String, List<Long>> keys = new HashMap<>();
        try (PreparedStatement query = connection.prepareStatement("SELECT k.container_id, k.key_id "
                + "FROM container_keys k JOIN containers c ON c.id = k.container_id WHERE " + where
                + " ORDER BY k.container_id, k.key_id")) {
            bind(query, parameters);
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    keys.computeIfAbsent(rows.getString(1), k -> new ArrayList<>()).add(rows.getLong(2));
                }
            }
        }
        List<Container> result = new ArrayList<>(containers.size());
        for (Container c : containers.values()) {
            // A container created between the queries has no rows in the other two: it shows as it was created
            result.add(c.withMountPaths(mounts.getOrDefault(c.id(), List.of()))
                    .withSshKeyIds(keys.getOrDefault(c.id(), List.of())));
        }
        return result;
    }

    private static void bind(PreparedStatement statement, String... parameters) throws SQLException {
        for (int i = 0; i < parameters.length; i++) {
            statement.setString(i + 1, parameters[i]);
        }
    }

    private static Container read(ResultSet row, List<String> mountPaths, List<Long> keyIds) throws SQLException {
        String status = row.getString("status");
        String instanceType = row.getString("instance_type");
        return new Container(
                row.getString("id"),
                row.getString("owner_id"),
                row.getString("name"),
                ContainerStatus.parse(status)
                        .orElseThrow(() -> new SQLException("unknown container status in the database: " + status)),
                row.getString("status_reason"),
                InstanceType.parse(instanceType)
                        .orElseThrow(() -> new SQLException("unknown instance type in the database: " + instanceType)),
                row.getInt("memory_mb"),
                row.getInt("storage_gb"),
                row.getBoolean("ssh_enabled"),
                row.getBoolean("https_enabled"),
                row.getString("image"),
                mountPaths,
                keyIds,
                row.getString("runtime_host"),
                Timestamps.get(row, "created_at"));
    }

    @Override
    public Optional<Container> update(String id, UnaryOperator<Container> change) {
        Objects.requireNonNull(change, "change");
        return transactions.run("update container " + id, connection -> {
            Optional<Container> locked = lock(connection, id);
            if (locked.isEmpty()) return Optional.empty();
            Container current = locked.get();
            Container changed = Objects.requireNonNull(change.apply(current), "the change returned null");
            if (changed.equals(current)) return Optional.of(current);
            if (!changed.id().equals(current.id()) || !changed.ownerId().equals(current.ownerId())
                    || !Timestamps.stored(changed.createdAt()).equals(current.createdAt())) {
                throw new IllegalArgumentException("the id, owner and creation time of container " + id
                        + " cannot change");
            }
            writeChangedColumns(connection, current, changed);
            if (!changed.mountPaths().equals(current.mountPaths())) {
                try (PreparedStatement delete = connection.prepareStatement(DELETE_MOUNTS)) {
                    delete.setString(1, id);
                    delete.executeUpdate();
                }
                insertMounts(connection, id, changed.mountPaths());
            }
            // The attached keys are not this method's to change (KeyStore.delete detaches them)
            return Optional.of(changed.withSshKeyIds(current.sshKeyIds()));
        });
    }

    /** Reads the container with its row locked until the transaction ends. */
    private static Optional<Container> lock(Connection connection, String id) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(LOCK_ONE)) {
            query.setString(1, id);
            try (ResultSet row = query.executeQuery()) {
                if (!row.next()) return Optional.empty();
            }
        }
        // Same transaction, row locked: the full read sees exactly what was locked
        return first(select(connection, "c.id = ?", id));
    }

    /** UPDATE of the columns that differ (and updated_at). */
    private static void writeChangedColumns(Connection connection, Container before, Container after)
            throws SQLException {
        List<String> assignments = new ArrayList<>();
        List<Object> values = new ArrayList<>();
        changed(assignments, values, "name", before.name(), after.name());
        changed(assignments, values, "status", before.status().id(), after.status().id());
        changed(assignments, values, "status_reason", before.statusReason(), after.statusReason());
        changed(assignments, values, "instance_type", before.instanceType().id(), after.instanceType().id());
        changed(assignments, values, "memory_mb", before.memoryMb(), after.memoryMb());
        changed(assignments, values, "storage_gb", before.storageGb(), after.storageGb());
        changed(assignments, values, "ssh_enabled", before.sshEnabled(), after.sshEnabled());
        changed(assignments, values, "https_enabled", before.httpsEnabled(), after.httpsEnabled());
        changed(assignments, values, "image", before.image(), after.image());
        changed(assignments, values, "runtime_host", before.runtimeHost(), after.runtimeHost());
        assignments.add("updated_at = ?");
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE containers SET " + String.join(", ", assignments) + " WHERE id = ?")) {
            int index = 1;
            for (Object value : values) {
                if (value == null) {
                    update.setNull(index++, java.sql.Types.VARCHAR); // only the nullable text columns can be null
                } else {
                    update.setObject(index++, value);
                }
            }
            Timestamps.set(update, index++, Instant.now());
            update.setString(index, before.id());
            update.executeUpdate();
        }
    }

    private static void changed(List<String> assignments, List<Object> values, String column, Object before,
            Object after) {
        if (!Objects.equals(before, after)) {
            assignments.add(column + " = ?");
            values.add(after);
        }
    }

    @Override
    public boolean delete(String id) {
        return transactions.run("delete container " + id, connection -> {
            try (PreparedStatement delete = connection.prepareStatement(DELETE)) {
                delete.setString(1, id);
                return delete.executeUpdate() > 0;
            }
        });
    }
}
