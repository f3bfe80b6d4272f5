import type { Command } from '../command.js';

const command: Command = {
  summary: 'Validate the config and print it with defaults filled in and paths resolved',
  async run({ config }) {
    // The admin token is a secret: say whether it is set, never what it is.
    const shown = { ...config, adminToken: config.adminToken === null ? null : '(set)', requestKey: config.requestKey === null ? null : '(set)' };
    return { result: shown };
  },
};

export default command;
