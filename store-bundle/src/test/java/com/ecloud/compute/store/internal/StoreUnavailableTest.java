package com.ecloud.compute.store.internal;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import com.ecloud.compute.api.store.StoreUnavailableException;

/** A database that cannot be reached makes every store method throw StoreUnavailableException. */
class StoreUnavailableTest {

    @Test
    void unreachableDatabaseIsReportedAsUnavailable() throws IOException {
        PGSimpleDataSource nowhere = new PGSimpleDataSource();
        nowhere.setURL("jdbc:postgresql://127.0.0.1:" + freePort() + "/none?connectTimeout=2");

        JdbcContainerStore containers = new JdbcContainerStore(nowhere);
        JdbcKeyStore keys = new JdbcKeyStore(nowhere);
        JdbcIngressStore ingress = new JdbcIngressStore(nowhere);

        assertThrows(StoreUnavailableException.class, () -> containers.find("c0000001"));
        assertThrows(StoreUnavailableException.class, () -> containers.listAll());
        assertThrows(StoreUnavailableException.class, () -> keys.list("alice"));
        assertThrows(StoreUnavailableException.class, () -> ingress.add("c0000001", 80, 8080));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
