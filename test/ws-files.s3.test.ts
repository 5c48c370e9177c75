process.env.RELAY_TEST_FILES = 's3'; await import('./ws-files.test.js');
