/**
 * A self-contained interactive page over /openapi.json: no CDN, so it works on an air-gapped
 * makerspace network. Lists every operation; "Try it" sends the request with the pasted token.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>MakrCave Skills API — docs</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
header{background:#1b1f24;color:#fff;padding:12px 20px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
header input{flex:1;min-width:260px;padding:6px 8px;font:13px monospace}
main{max-width:1100px;margin:0 auto;padding:16px}
details{background:#fff;border:1px solid #d8dde3;border-radius:6px;margin:8px 0}
summary{cursor:pointer;padding:8px 12px;display:flex;gap:10px;align-items:center}
.m{font:bold 12px monospace;padding:2px 8px;border-radius:4px;color:#fff;min-width:48px;text-align:center}
.get{background:#2f7d32}.post{background:#1565c0}.put{background:#ef6c00}.delete{background:#c62828}
.body{padding:8px 12px;border-top:1px solid #eee}
label{display:block;margin:4px 0;font-size:13px}label input{margin-left:6px;padding:3px 6px;font:13px monospace}
textarea{width:100%;min-height:90px;font:13px monospace}
pre{background:#0f1419;color:#d6deeb;padding:10px;border-radius:4px;overflow:auto;max-height:360px;font-size:12px}
h2{font-size:16px;margin:20px 0 4px}
</style></head><body>
<header><strong>MakrCave Skills API</strong><input id="token" placeholder="Bearer token (npm run token -- --role makerspace_admin --sub admin-1 --makerspace ms-1)"></header>
<main id="ops">Loading /openapi.json…</main>
<script>
const tokenInput=document.getElementById('token');tokenInput.value=sessionStorage.getItem('docs-token')||'';
tokenInput.addEventListener('change',()=>sessionStorage.setItem('docs-token',tokenInput.value.trim()));
const esc=s=>String(s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const root=document.getElementById('ops');root.textContent='';const byTag={};
  for(const [path,ops] of Object.entries(doc.paths))for(const [method,op] of Object.entries(ops))(byTag[op.tags?.[0]??'other']??=[]).push({path,method,op});
  for(const [tag,list] of Object.entries(byTag)){
    const h=document.createElement('h2');h.textContent=tag;root.append(h);
    for(const {path,method,op} of list){
      const d=document.createElement('details');
      const params=(op.parameters||[]).map(p=>'<label>'+esc(p.name)+' ('+p.in+(p.required?', required':'')+')<input data-in="'+p.in+'" data-name="'+esc(p.name)+'"></label>').join('');
      const [type,media]=Object.entries(op.requestBody?.content||{})[0]||[];
      const body=type?'<label>Body ('+esc(type)+')<textarea data-type="'+esc(type)+'">'+esc(sample(type,media))+'</textarea></label>':'';
      d.dataset.op=method.toUpperCase()+' '+path;
      d.innerHTML='<summary><span class="m '+method+'">'+method.toUpperCase()+'</span><code>'+esc(path)+'</code><span>'+esc(op.summary)+'</span></summary><div class="body"><p>'+esc(op.description||'')+'</p>'+params+body+'<button>Try it</button><pre hidden></pre></div>';
      d.querySelector('button').onclick=()=>send(d,path,method);root.append(d);
    }
  }
});
// A body to start from: JSON built from the schema's required fields; any other type (the CSV
// import's text/csv) its example, else empty. Never assumes a JSON body.
function sample(type,media){if(media?.example!==undefined)return typeof media.example==='string'?media.example:JSON.stringify(media.example,null,2);
  if(/json/.test(type))return JSON.stringify(example(media?.schema),null,2);const s=media?.schema;return typeof s?.example==='string'?s.example:''}
function example(s){if(!s||typeof s!=='object')return null;if(s.type==='object'){const o={};for(const k of s.required||[])o[k]=example(s.properties?.[k]);return o}
  if(s.enum)return s.enum[0];if(s.type==='array')return [];if(s.type==='integer'||s.type==='number')return 0;if(s.type==='boolean')return false;return ''}
async function send(d,path,method){
  const q=new URLSearchParams();let url=path;
  for(const i of d.querySelectorAll('input[data-in]')){if(!i.value)continue;if(i.dataset.in==='path')url=url.replace('{'+i.dataset.name+'}',encodeURIComponent(i.value));else q.set(i.dataset.name,i.value)}
  const headers={};const t=tokenInput.value.trim();if(t)headers.authorization='Bearer '+t;
  const ta=d.querySelector('textarea');let body;if(ta){headers['content-type']=ta.dataset.type;body=ta.value}
  const out=d.querySelector('pre');out.hidden=false;out.textContent='…';
  try{const r=await fetch(url+(q.size?'?'+q:''),{method:method.toUpperCase(),headers,body});const text=await r.text();
    let shown=text;try{shown=JSON.stringify(JSON.parse(text),null,2)}catch{}out.textContent=r.status+' '+r.statusText+'\\n\\n'+shown}
  catch(e){out.textContent='Request failed: '+e.message}
}
</script></body></html>`;
