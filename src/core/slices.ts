/**
 * Slice arithmetic of the slice types: ntasks split over nslices as evenly as integers allow.
 * Slice i gets floor((i+1)*n/k) - floor(i*n/k) tasks, so any k consecutive slices cover all
 * n tasks exactly once and two slices differ by at most one task.
 */
export function tasksForSlice(slice: number, ntasks: number, nslices: number): number {
  return Math.floor(((slice + 1) * ntasks) / nslices) - Math.floor((slice * ntasks) / nslices);
}

/** The first task index (0-based) of slice i: the tasks of slice i are [first, first + tasksForSlice). */
export function firstTaskOfSlice(slice: number, ntasks: number, nslices: number): number {
  return Math.floor((slice * ntasks) / nslices);
}
