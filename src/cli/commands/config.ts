import type { Command } from '../command.js';

const command: Command = {
  summary: 'Validate the config and print it with defaults filled in and paths resolved',
  async run({ config }) {
    // The tokens and the key are secrets: say whether each is set, never what it is.
    const set = (secret: string | null): string | null => (secret === null ? null : '(set)');
    const shown = { ...config, adminToken: set(config.adminToken), labelToken: set(config.labelToken), requestKey: set(config.requestKey) };
    return { result: shown };
  },
};

export default command;
