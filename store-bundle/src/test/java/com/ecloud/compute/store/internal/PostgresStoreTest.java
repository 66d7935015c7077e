package com.ecloud.compute.store.internal;

/**
 * The store on PostgreSQL (ECLOUD_TEST_POSTGRES_URL/_USER/_PASSWORD), in a schema of its own that is dropped
 * afterwards. Skipped without that URL unless ECLOUD_REQUIRE_ENGINES=true.
 */
class PostgresStoreTest extends AbstractStoreTest {

    @Override
    TestDatabase openDatabase() throws Exception {
        return TestDatabase.postgres();
    }
}
