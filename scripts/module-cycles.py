#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a cycle (crates cannot: Cargo
refuses a cyclic crate graph). Reads `crate::x` and top-level `super::x` paths of non-test
code. Run from the repository root; scripts/test.sh runs it."""
import os,re,sys,collections
found = []
for crate in sorted(os.listdir('crates'))+['.']:
    root = f'crates/{crate}/src' if crate!='.' else 'src'
    deps=collections.defaultdict(set); mods=set()
    for dp,_,fs in os.walk(root):
        for f in fs:
            if not f.endswith('.rs'): continue
            rel=os.path.relpath(os.path.join(dp,f),root)
            top=rel.split('/')[0].removesuffix('.rs')
            if top in ('lib','main'): continue
            mods.add(top)
            t=open(os.path.join(dp,f)).read()
            i=t.find('#[cfg(test)]'); t=t[:i] if i>=0 else t
            for m in re.findall(r'crate::(\w+)',t):
                if m!=top: deps[top].add(m)
            # In a top-level module file, `super::x` is the crate root's module x.
            if '/' not in rel:
                for m in re.findall(r'\bsuper::(\w+)',t):
                    if m!=top: deps[top].add(m)
    # find cycles via DFS
    color={}; cyc=[]
    def dfs(u,stack):
        color[u]=1; stack.append(u)
        for v in deps[u]:
            if v not in mods: continue
            if color.get(v)==1: cyc.append(stack[stack.index(v):]+[v])
            elif not color.get(v): dfs(v,stack)
        stack.pop(); color[u]=2
    for m in mods:
        if not color.get(m): dfs(m,[])
    if cyc:
        found.append((crate, cyc))
for crate, cyc in found:
    print(f"{crate}: module cycle(s): {cyc}")
sys.exit(1 if found else 0)
