process.env.RELAY_TEST_PUBSUB = 'redis'; await import('./ws-edit-delete.test.js');
