import corridor as cr

net = cr.read_network("central-asia")
run = cr.optimize(cr.apply_scenario(net, "line-d"), periods=12)
print(run.summary())
print(run.welfare(by="country")["welfare_usd"].div(1e6).round(1).sort_values())
