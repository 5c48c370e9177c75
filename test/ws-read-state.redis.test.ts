process.env.RELAY_TEST_PUBSUB = 'redis'; await import('./ws-read-state.test.js');
