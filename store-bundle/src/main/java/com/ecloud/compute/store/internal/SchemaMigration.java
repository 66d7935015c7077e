package com.ecloud.compute.store.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

import javax.sql.DataSource;

import liquibase.Scope;
import liquibase.UpdateSummaryOutputEnum;
import liquibase.command.CommandScope;
import liquibase.command.core.helpers.ShowSummaryArgument;
import liquibase.command.core.UpdateCommandStep;
import liquibase.command.core.helpers.DbUrlConnectionArgumentsCommandStep;
import liquibase.database.Database;
import liquibase.database.DatabaseFactory;
import liquibase.database.jvm.JdbcConnection;
import liquibase.resource.ClassLoaderResourceAccessor;
import liquibase.ui.LoggerUIService;

/**
 * Brings the schema up to date with the store's Liquibase changelog. Safe to run again, and from several nodes
 * at once (Liquibase's lock table serialises them).
 */
final class SchemaMigration {

    /** Path of the changelog inside this bundle. */
    static final String CHANGELOG = "com/ecloud/compute/store/db/changelog.xml";

    private SchemaMigration() {
    }

    /** Applies every changeset not applied yet. */
    static void migrate(DataSource dataSource) throws Exception {
        ClassLoader bundleLoader = SchemaMigration.class.getClassLoader();
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        // In OSGi Liquibase finds its services through the context class loader (woven by SPI Fly) and
        // reads the changelog through the resource accessor: both must be this bundle's loader.
        thread.setContextClassLoader(bundleLoader);
        try (Connection connection = dataSource.getConnection()) {
            Database database = DatabaseFactory.getInstance()
                    .findCorrectDatabaseImplementation(new JdbcConnection(connection));
            Map<String, Object> scope = Map.of(
                    Scope.Attr.resourceAccessor.name(), new ClassLoaderResourceAccessor(bundleLoader),
                    // Log through java.util.logging instead of printing to standard out
                    Scope.Attr.ui.name(), new LoggerUIService(),
                    // Liquibase would otherwise send usage data to liquibase.com
                    "liquibase.analytics.enabled", Boolean.FALSE,
                    "liquibase.showBanner", Boolean.FALSE);
            Scope.child(scope, () -> new CommandScope(UpdateCommandStep.COMMAND_NAME)
                    .addArgumentValue(DbUrlConnectionArgumentsCommandStep.DATABASE_ARG, database)
                    .addArgumentValue(UpdateCommandStep.CHANGELOG_FILE_ARG, CHANGELOG)
                    // The summary goes to the log too, not to standard out
                    .addArgumentValue(ShowSummaryArgument.SHOW_SUMMARY_OUTPUT, UpdateSummaryOutputEnum.LOG)
                    .execute());
            commit(connection);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static void commit(Connection connection) throws SQLException {
        if (!connection.getAutoCommit()) connection.commit();
    }
}
