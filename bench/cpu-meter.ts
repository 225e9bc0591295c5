/** CPU time of this whole process (all threads) over a window, as % of one core. */
export function startCpuMeter(): () => number {
  const cpuStart = process.cpuUsage();
  const wallStart = process.hrtime.bigint();
  return () => {
    const cpu = process.cpuUsage(cpuStart);
    const wallUs = Number(process.hrtime.bigint() - wallStart) / 1000;
    return ((cpu.user + cpu.system) / wallUs) * 100;
  };
}
