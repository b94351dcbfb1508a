/**
 * The leader of a process group that process-group.mjs starts: `node group-watchdog.mjs COMMAND
 * ARGS…` runs the command in the same group and SIGKILLs the whole group, itself included, as soon
 * as its stdin closes. Only the process that started the group holds the other end of that pipe,
 * and the kernel closes it when that process dies, even by SIGKILL: so a `wrangler dev` never
 * outlives `npm start` or the test that started it, and never keeps their port.
 *
 * When the command exits by itself, what it left in the group goes too (wrangler's node exiting
 * leaves both workerd processes serving), and the watchdog exits with the command's code.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { groupMembers } from "./process-group.mjs";

const killGroup = () => process.kill(-process.pid, "SIGKILL");
process.stdin.on("end", killGroup).on("error", killGroup).resume();

const [command, ...args] = process.argv.slice(2);
if (command === undefined) throw new Error("usage: node group-watchdog.mjs COMMAND [ARGS…]");
// Not detached: the command and whatever it starts stay in this group.
const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
child.once("error", (error) => {
  console.error(`[group-watchdog] could not start ${command}: ${error.message}`);
  killGroup();
});
child.once("exit", (code, signal) => {
  for (const { pid } of groupMembers(process.pid)) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
});
