package com.ecloud.compute.store.internal;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.store.ContainerStore;
import com.ecloud.compute.api.store.IngressStore;
import com.ecloud.compute.api.store.KeyStore;
import com.zaxxer.hikari.HikariDataSource;

/**
 * The platform's database: opens the connection pool, brings the schema up to date, and only then registers
 * ContainerStore, KeyStore and IngressStore. Their presence is the readiness signal: "store migrated" means the
 * ContainerStore service exists. Connecting and migrating run on a thread of their own (activation returns at
 * once) and are retried with back-off while the database cannot be reached.
 */
@Component(configurationPid = Database.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {},
        immediate = true)
@Designate(ocd = Database.Config.class)
public final class Database {

    static final String PID = "com.ecloud.compute.store";

    /** Service property on every store: the database product the store runs on ("H2", "PostgreSQL"). */
    static final String DATABASE_PROPERTY = "ecloud.store.database";

    /** The framework property naming the platform's data directory. */
    static final String DATA_DIR_PROPERTY = "ecloud.data";

    private static final long FIRST_RETRY_SECONDS = 2;
    private static final long MAX_RETRY_SECONDS = 60;

    private static final Logger LOG = LoggerFactory.getLogger(Database.class);

    @ObjectClassDefinition(name = "ecloud compute store",
            description = "The database of containers, SSH keys and ingress rules.")
    public @interface Config {
        @AttributeDefinition(name = "JDBC URL", required = false,
                description = "jdbc:postgresql://host:5432/db or jdbc:h2:...; empty: the embedded H2 database "
                        + "<ecloud.data>/db/compute")
        String jdbc_url() default "";

        @AttributeDefinition(name = "User", required = false)
        String jdbc_user() default "";

        /** {@code .jdbc.password}: a leading dot makes a property private (never copied to service properties). */
        @AttributeDefinition(name = "Password", type = AttributeType.PASSWORD, required = false)
        String _jdbc_password() default "";

        @AttributeDefinition(name = "Pool size", min = "1", description = "Most open connections")
        int pool_size() default 10;
    }

    private final BundleContext context;
    private final StoreSettings settings;
    /** Connects and migrates off the activation thread; its delayed retries are dropped on shutdown. */
    private final ScheduledThreadPoolExecutor starter;

    // Guarded by this: what start() opened, and whether deactivation has begun
    private HikariDataSource pool;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private boolean closed;
    private long retrySeconds = FIRST_RETRY_SECONDS;

    @Activate
    public Database(BundleContext context, Config config) {
        this.context = context;
        this.settings = StoreSettings.of(config.jdbc_url(), config.jdbc_user(), config._jdbc_password(),
                config.pool_size(), context.getProperty(DATA_DIR_PROPERTY));
        settings.engine(); // an unsupported URL fails activation now, not on every retry
        this.starter = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "ecloud-store-start");
            thread.setDaemon(true);
            return thread;
        });
        starter.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        starter.execute(this::start);
    }

    /** Opens the pool, migrates, registers the stores; on failure tries again later. */
    private void start() {
        HikariDataSource opened = null;
        try {
            LOG.info("Opening the store database {}", settings.safeUrl());
            opened = ConnectionPools.open(settings);
            SchemaMigration.migrate(opened);
            String product = ConnectionPools.productName(opened);
            synchronized (this) {
                if (closed) {
                    opened.close();
                    return;
                }
                pool = opened;
                register(product);
            }
            LOG.info("Store ready on {} ({})", product, settings.safeUrl());
        } catch (Exception | LinkageError e) {
            if (opened != null) opened.close();
            long delay;
            synchronized (this) {
                if (closed) return;
                delay = retrySeconds;
                retrySeconds = Math.min(retrySeconds * 2, MAX_RETRY_SECONDS);
            }
            LOG.error("The store database {} is not ready; trying again in {} s", settings.safeUrl(), delay, e);
            try {
                starter.schedule(this::start, delay, TimeUnit.SECONDS);
            } catch (RejectedExecutionException deactivated) {
                // close() has begun meanwhile: nothing more to do
            }
        }
    }

    private void register(String product) {
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(DATABASE_PROPERTY, product);
        registrations.add(context.registerService(KeyStore.class, new JdbcKeyStore(pool), properties));
        registrations.add(context.registerService(IngressStore.class, new JdbcIngressStore(pool), properties));
        // Last: its presence says the other two are there as well
        registrations.add(context.registerService(ContainerStore.class, new JdbcContainerStore(pool), properties));
    }

    @Deactivate
    void close() {
        synchronized (this) {
            closed = true;
            for (int i = registrations.size() - 1; i >= 0; i--) {
                try {
                    registrations.get(i).unregister();
                } catch (IllegalStateException alreadyGone) {
                    // unregistered by the framework as the bundle stops
                }
            }
            registrations.clear();
        }
        // Let a migration in progress finish: interrupting it could leave Liquibase's lock row taken
        starter.shutdown();
        try {
            if (!starter.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("The store database is still being prepared; closing it anyway");
                starter.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (pool != null) pool.close();
            pool = null;
        }
    }
}
