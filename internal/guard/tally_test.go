package guard
import ("testing";"math/rand/v2";"time")
func TestTally(t *testing.T){
	r := rand.New(rand.NewPCG(1,2)); now:=testNow(); c := map[string]int{}
	for range 200000 {
		p := DefaultScalingPolicy()
		p.Min, p.Max = int64(r.IntN(16)), int64(r.IntN(32))
		p.Up.Step, p.Down.Step, p.Out.Step = int64(r.IntN(6)), int64(r.IntN(6)), int64(r.IntN(6))
		w := workload(int32(r.IntN(40)))
		noise := r.Uint64() & r.Uint64() & r.Uint64()
		in := ScaleInput{Workload: w, Requested: int64(r.IntN(50)), Now: now, CPU: obs(fuzzSeries(float64(r.IntN(120)), noise)), ErrorRate: obs(fuzzSeries(float64(r.IntN(30)), noise>>7))}
		if r.IntN(2)==0 { in.State.LastScaleUp = now.Add(-time.Duration(r.IntN(200))*10*time.Second)}
		d := p.Decide(in)
		c[string(d.Verdict)+" "+d.Rule]++
		checkScaleInvariants(t, p, in, d)
	}
	t.Log(c)
}
