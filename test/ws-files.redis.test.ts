process.env.RELAY_TEST_PUBSUB = 'redis'; await import('./ws-files.test.js');
