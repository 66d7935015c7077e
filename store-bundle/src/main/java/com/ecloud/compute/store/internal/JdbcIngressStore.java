package com.ecloud.compute.store.internal;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import javax.sql.DataSource;

import com.ecloud.compute.api.model.IngressRule;
import com.ecloud.compute.api.store.ConflictException;
import com.ecloud.compute.api.store.IngressStore;

/** Ingress rules in {@code ingress_rules}; they go with their container (ON DELETE CASCADE). */
final class JdbcIngressStore implements IngressStore {

    private static final String COLUMNS = "id, container_id, port, target_port, created_at";

    private static final String INSERT =
            "INSERT INTO ingress_rules (container_id, port, target_port, created_at) VALUES (?, ?, ?, ?)";
    private static final String LIST = "SELECT " + COLUMNS + " FROM ingress_rules WHERE container_id = ? ORDER BY port";
    private static final String LIST_ALL = "SELECT " + COLUMNS + " FROM ingress_rules ORDER BY container_id, port";
    private static final String DELETE = "DELETE FROM ingress_rules WHERE container_id = ? AND port = ?";

    private final Transactions transactions;

    JdbcIngressStore(DataSource dataSource) {
        this.transactions = new Transactions(dataSource);
    }

    @Override
    public IngressRule add(String containerId, int port, int targetPort) {
        Objects.requireNonNull(containerId, "containerId");
        return transactions.run("add ingress rule", connection -> {
            Instant createdAt = Timestamps.stored(Instant.now());
            try (PreparedStatement insert = connection.prepareStatement(INSERT, new String[] {"id"})) {
                insert.setString(1, containerId);
                insert.setInt(2, port);
                insert.setInt(3, targetPort);
                Timestamps.set(insert, 4, createdAt);
                insert.executeUpdate();
                try (ResultSet keys = insert.getGeneratedKeys()) {
                    keys.next();
                    return new IngressRule(keys.getLong(1), containerId, port, targetPort, createdAt);
                }
            } catch (SQLException e) {
                if (SqlFailures.isUniqueViolation(e)) {
                    throw new ConflictException("container " + containerId + " already has an ingress rule on port " + port);
                }
                if (SqlFailures.isMissingReference(e)) {
                    throw new ConflictException("container " + containerId + " does not exist");
                }
                throw e;
            }
        });
    }

    @Override
    public List<IngressRule> list(String containerId) {
        return transactions.run("list ingress rules", connection -> {
            try (PreparedStatement query = connection.prepareStatement(LIST)) {
                query.setString(1, containerId);
                return readAll(query);
            }
        });
    }

    @Override
    public List<IngressRule> listAll() {
        return transactions.run("list ingress rules", connection -> {
            try (PreparedStatement query = connection.prepareStatement(LIST_ALL)) {
                return readAll(query);
            }
        });
    }

    @Override
    public boolean delete(String containerId, int port) {
        return transactions.run("delete ingress rule", connection -> {
            try (PreparedStatement delete = connection.prepareStatement(DELETE)) {
                delete.setString(1, containerId);
                delete.setInt(2, port);
                return delete.executeUpdate() > 0;
            }
        });
    }

    private static List<IngressRule> readAll(PreparedStatement query) throws SQLException {
        List<IngressRule> rules = new ArrayList<>();
        try (ResultSet row = query.executeQuery()) {
            while (row.next()) {
                rules.add(new IngressRule(row.getLong("id"), row.getString("container_id"), row.getInt("port"),
                        row.getInt("target_port"), Timestamps.get(row, "created_at")));
            }
        }
        return rules;
    }
}
