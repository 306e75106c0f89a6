// The vm tier: the README's test command inside a real VM. Builds (or reuses) the box tscni/bookworm64 from Debian
// packages, boots it with `vagrant up` (libvirt: KVM where the CPU has VT-x/AMD-V, else QEMU's emulation), lets the
// Vagrantfile's provisioner run the suite inside, reads the inner "N passed, N failed" line, destroys the VM, and
// checks that the host kept nothing: no domain, volume, network, daemon or nft table of the run. test/vm/README.md.

import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/plugin.ts';
import { hostLibvirt, libvirtObjects, runLogged, vmChoice } from './vagrant.ts';

const DOMAIN = 'tscni-vagrant-default';
const NETWORK = 'tscni-vagrant';

test.serial('the suite passes inside a Vagrant VM, and the VM leaves nothing on the host', async (t) => {
  t.timeout(80 * 60_000);
  t.is(process.getuid?.(), 0, 'the vm tier runs as root (libvirt system domains)');
  const { driver, suite } = vmChoice();
  t.log(`driver ${driver}, inner suite ${suite === 'all' ? 'unit netns e2e' : 'unit netns e2e/plugins + demo'}`);

  const dot = mkdtempSync(join(tmpdir(), 'tscni-vagrant-'));
  const log = join(dot, 'vagrant.log');
  const env = {
    ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_DOTFILE_PATH: join(dot, 'dot'),
    TSCNI_VAGRANT_DRIVER: driver, TSCNI_VM_SUITE: suite,
  };
  const host = await hostLibvirt.start();
  const before = await libvirtObjects();
  let up = { code: -1, seconds: 0 };
  let destroyed = { code: -1, seconds: 0 };
  let box = { code: -1, seconds: 0 };
  try {
    box = await runLogged('bash', [join(ROOT, 'test/vagrant/build-box.sh')], { cwd: ROOT, env, log });
    t.is(box.code, 0, 'build-box.sh');
    if (box.code === 0) up = await runLogged('vagrant', ['up', '--provider', 'libvirt'], { cwd: ROOT, env, log });
  } finally {
    destroyed = await runLogged('vagrant', ['destroy', '-f'], { cwd: ROOT, env, log });
    await hostLibvirt.removeBaseVolumes(before.volumes);
  }
  const after = await libvirtObjects();
  await host.stop();
  // Without the upload's progress bar (one long line of redraws).
  const out = readFileSync(log, 'utf8').replace(/(\x1b\[K)?Progress: \d+%/g, '');
  t.log(`box ${box.seconds} s, vagrant up + inner suite ${up.seconds} s, destroy ${destroyed.seconds} s; log ${log}`);

  const lines = [...out.matchAll(/^\s*default: (\d+) passed, (\d+) failed\s*$/gm)];
  const inner = lines.at(-1);
  t.log(inner ? `inside the VM: ${inner[1]} passed, ${inner[2]} failed` : 'inside the VM: no result line');
  if (up.code !== 0) {
    // Every inner failure by name with its diagnostic block (up to the YAML end marker), then the log's tail.
    const failures = [...out.matchAll(/^\s*default: not ok \d+ - [^\n]*\n(?:\s*default:\s{3,}[^\n]*\n)*/gm)].map((m) => m[0]);
    if (failures.length) t.log(`inner failures:\n${failures.join('')}`);
    t.log(out.split('\n').slice(-40).join('\n'));
  }
  t.is(up.code, 0, 'vagrant up (with the inner suite as its provisioner) exits 0');
  t.truthy(inner, 'the inner run printed its "N passed, N failed" line');
  t.is(inner?.[2], '0');
  t.true(Number(inner?.[1] ?? 0) > 100, `more than 100 inner tests passed (${inner?.[1]})`);
  for (const tier of suite === 'all' ? ['unit', 'netns', 'e2e'] : ['unit', 'netns', 'e2e/plugins']) {
    t.regex(out, new RegExp(`default: == tier: ${tier.replace('/', '\\/')}\\s*$`, 'm'), `tier ${tier} ran inside`);
  }
  if (suite === 'plugins') t.regex(out, /default: web is running\./, 'the README demo answered curl inside the VM');

  t.is(destroyed.code, 0, 'vagrant destroy -f');
  t.false(after.domains.includes(DOMAIN), 'no domain left');
  t.false(after.networks.includes(NETWORK), 'no libvirt network left');
  t.deepEqual(after.volumes, before.volumes, 'no storage volume left');
  t.deepEqual(await hostLibvirt.leftovers(host), [], 'no daemon or nft table of the run left');
  t.false(existsSync(join(dot, 'dot', 'machines', 'default', 'libvirt', 'id')), 'vagrant forgot the machine');
  if (t.passed) rmSync(dot, { recursive: true, force: true });
});
