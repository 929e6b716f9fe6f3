<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Banner</name>
    <message>
        <source>Trust this file and reload…</source>
        <translation>信任此文件并重新加载…</translation>
    </message>
    <message>
        <source>&lt;b&gt;Safe mode.&lt;/b&gt; This file names code that was &lt;b&gt;not executed&lt;/b&gt;: {names}. Those objects are shown as placeholders; every tensor is still listed.</source>
        <translation>&lt;b&gt;安全模式。&lt;/b&gt;此文件引用了&lt;b&gt;未被执行&lt;/b&gt;的代码：{names}。这些对象显示为占位对象；所有张量仍全部列出。</translation>
    </message>
    <message>
        <source>Loaded as plain data (outside torch&apos;s weights-only allowlist, nothing executed): {names}</source>
        <translation>已作为普通数据加载（不在 torch 的 weights-only 允许列表中，未执行任何代码）：{names}</translation>
    </message>
    <message>
        <source>&lt;b&gt;Trusted:&lt;/b&gt; fully unpickled with torch.load(weights_only=False).</source>
        <translation>&lt;b&gt;已信任：&lt;/b&gt;已用 torch.load(weights_only=False) 完整反序列化。</translation>
    </message>
</context>
<context>
    <name>Comparisons</name>
    <message>
        <source>PyTorch checkpoints (*.pth *.pt *.bin *.ckpt *.safetensors *.tar);;All files (*)</source>
        <translation>PyTorch 检查点 (*.pth *.pt *.bin *.ckpt *.safetensors *.tar);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Compare &amp;with</source>
        <translation>对比(&amp;W)</translation>
    </message>
    <message>
        <source>&amp;Original on disk</source>
        <translation>磁盘上的原文件(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;File…</source>
        <translation>文件(&amp;F)…</translation>
    </message>
    <message>
        <source>No other open tabs</source>
        <translation>没有其他已打开的标签页</translation>
    </message>
    <message>
        <source>The working copy (with its edits) against the file as opened</source>
        <translation>工作副本（含编辑）与打开时的文件对比</translation>
    </message>
    <message>
        <source>Available after an edit: compares the working copy with the file as opened</source>
        <translation>编辑后可用：将工作副本与打开时的文件对比</translation>
    </message>
    <message>
        <source>Compare with</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>{name} (on disk)</source>
        <translation>{name}（磁盘上）</translation>
    </message>
</context>
<context>
    <name>DiffView</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Rel. change</source>
        <translation>相对变化</translation>
    </message>
    <message>
        <source>Cosine</source>
        <translation>余弦</translation>
    </message>
    <message>
        <source>Changed</source>
        <translation>变化比例</translation>
    </message>
    <message>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Changed only</source>
        <translation>仅已变化</translation>
    </message>
    <message>
        <source>Mismatched only</source>
        <translation>仅不匹配</translation>
    </message>
    <message>
        <source>Hide identical</source>
        <translation>隐藏完全相同</translation>
    </message>
    <message>
        <source>equal in value</source>
        <translation>数值相等</translation>
    </message>
    <message>
        <source>within tolerance</source>
        <translation>在容差内</translation>
    </message>
    <message>
        <source>identical</source>
        <translation>完全相同</translation>
    </message>
    <message>
        <source>changed</source>
        <translation>已变化</translation>
    </message>
    <message>
        <source>mismatched</source>
        <translation>不匹配</translation>
    </message>
    <message>
        <source>only in A</source>
        <translation>仅在 A 中</translation>
    </message>
    <message>
        <source>only in B</source>
        <translation>仅在 B 中</translation>
    </message>
    <message>
        <source>%Ln equal in value</source>
        <translation>%Ln 个数值相等</translation>
    </message>
    <message>
        <source>%Ln within tolerance</source>
        <translation>%Ln 个在容差内</translation>
    </message>
    <message>
        <source>%Ln identical</source>
        <translation>%Ln 个完全相同</translation>
    </message>
    <message>
        <source>%Ln changed</source>
        <translation>%Ln 个已变化</translation>
    </message>
    <message>
        <source>%Ln mismatched</source>
        <translation>%Ln 个不匹配</translation>
    </message>
    <message>
        <source>%Ln only in A</source>
        <translation>%Ln 个仅在 A 中</translation>
    </message>
    <message>
        <source>%Ln only in B</source>
        <translation>%Ln 个仅在 B 中</translation>
    </message>
    <message>
        <source>new from zero</source>
        <translation>从零变为非零</translation>
    </message>
    <message>
        <source>atol {atol}, rtol {rtol}</source>
        <translation>atol {atol}，rtol {rtol}</translation>
    </message>
    <message>
        <source>exact</source>
        <translation>精确</translation>
    </message>
    <message>
        <source>different</source>
        <translation>不同</translation>
    </message>
    <message>
        <source>same</source>
        <translation>相同</translation>
    </message>
    <message>
        <source>same values</source>
        <translation>数值相同</translation>
    </message>
    <message>
        <source>same within tolerance</source>
        <translation>在容差内相同</translation>
    </message>
    <message>
        <source>%Ln tensor(s)</source>
        <translation>%Ln 个张量</translation>
    </message>
    <message>
        <source>{verdict} ({tolerance}): {counts}</source>
        <translation>{verdict}（{tolerance}）：{counts}</translation>
    </message>
    <message>
        <source>{label} {a} -&gt; {b}</source>
        <translation>{label} {a} -&gt; {b}</translation>
    </message>
    <message>
        <source>{label} {a} (unchanged)</source>
        <translation>{label} {a}（未变）</translation>
    </message>
    <message>
        <source>{label} {a} -&gt; {b} in %Ln layer(s) ({changed} of {n} changed)</source>
        <translation>{label} 在 %Ln 层中为 {a} -&gt; {b}（{n} 层中 {changed} 层有变化）</translation>
    </message>
    <message>
        <source>{counter} in %Ln layer(s)</source>
        <translation>{counter}（共 %Ln 层）</translation>
    </message>
    <message>
        <source>{label}: {changed} of {n} changed</source>
        <translation>{label}：{n} 个中 {changed} 个有变化</translation>
    </message>
    <message>
        <source>total relative change: none (no floating-point tensors compared)</source>
        <translation>总相对变化：无（未比较任何浮点张量）</translation>
    </message>
    <message>
        <source>total relative change {value} over %Ln floating-point tensor(s)</source>
        <translation>%Ln 个浮点张量的总相对变化为 {value}</translation>
    </message>
    <message>
        <source>Outside tol.</source>
        <translation>超出容差</translation>
    </message>
    <message>
        <source>Elements that differ</source>
        <translation>不同元素的比例</translation>
    </message>
    <message>
        <source>Elements outside atol + rtol·|b|</source>
        <translation>超出 atol + rtol·|b| 的元素比例</translation>
    </message>
    <message>
        <source>relative change</source>
        <translation>相对变化</translation>
    </message>
    <message>
        <source>relative change (log)</source>
        <translation>相对变化（对数）</translation>
    </message>
    <message>
        <source>relative change {dash}: nothing measured ({what})</source>
        <translation>相对变化 {dash}：无可度量的张量（{what}）</translation>
    </message>
    <message>
        <source>relative change {value} ({formula})</source>
        <translation>相对变化 {value}（{formula}）</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>关闭(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Swap A and B</source>
        <translation>交换 A 和 B(&amp;S)</translation>
    </message>
    <message>
        <source>Swap A and B and compare again (B − A becomes A − B)</source>
        <translation>交换 A 和 B 并重新对比（B − A 变为 A − B）</translation>
    </message>
    <message>
        <source>Export as &amp;CSV…</source>
        <translation>导出为 CSV(&amp;C)…</translation>
    </message>
    <message>
        <source>Export as &amp;JSON…</source>
        <translation>导出为 JSON(&amp;J)…</translation>
    </message>
    <message>
        <source>Absolute tolerance: |a−b| ≤ atol + rtol·|b| counts as equal (1e-3 or 0.001)</source>
        <translation>绝对容差：|a−b| ≤ atol + rtol·|b| 视为相等（可写 1e-3 或 0.001）</translation>
    </message>
    <message>
        <source>Relative tolerance, as in torch.allclose (1e-3 or 0.001)</source>
        <translation>相对容差，含义同 torch.allclose（可写 1e-3 或 0.001）</translation>
    </message>
    <message>
        <source>Log scale</source>
        <translation>对数刻度</translation>
    </message>
    <message>
        <source>&amp;Log scale</source>
        <translation>对数刻度(&amp;L)</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>&lt;b&gt;Relative change per layer&lt;/b&gt; {formula}, floating-point tensors</source>
        <translation>&lt;b&gt;各层相对变化&lt;/b&gt; {formula}，仅浮点张量</translation>
    </message>
    <message>
        <source>Integer and bool tensors (num_batches_tracked, counters) are compared exactly and listed as counters above, not drawn here. Click a bar to select its layer; hover to name it.</source>
        <translation>整数和布尔张量（num_batches_tracked、计数器）按精确值比较，列在上方的计数器中，不在此绘制。单击柱条可选中该层；悬停可显示层名。</translation>
    </message>
    <message>
        <source>value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Metric</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>Comparing…</source>
        <translation>正在对比…</translation>
    </message>
    <message>
        <source>Comparing</source>
        <translation>正在对比</translation>
    </message>
    <message>
        <source>&lt;b&gt;Cannot compare:&lt;/b&gt; {message}</source>
        <translation>&lt;b&gt;无法对比：&lt;/b&gt;{message}</translation>
    </message>
    <message>
        <source>Export comparison as CSV</source>
        <translation>将对比结果导出为 CSV</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Export comparison as JSON</source>
        <translation>将对比结果导出为 JSON</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON 文件 (*.json)</translation>
    </message>
    <message>
        <source>Cannot export the comparison: {error}</source>
        <translation>无法导出对比结果：{error}</translation>
    </message>
    <message>
        <source>Saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
    <message>
        <source>counters: {counters}</source>
        <translation>计数器：{counters}</translation>
    </message>
    <message>
        <source>aligned by removing {a_prefix} from A, {b_prefix} from B</source>
        <translation>对齐方式：从 A 去除 {a_prefix}，从 B 去除 {b_prefix}</translation>
    </message>
    <message>
        <source>note: {note}</source>
        <translation>注：{note}</translation>
    </message>
    <message>
        <source>Drawing {key}</source>
        <translation>正在绘制 {key}</translation>
    </message>
    <message>
        <source>key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>integer: compared exactly, not in relative change</source>
        <translation>整数：按精确值比较，不计入相对变化</translation>
    </message>
    <message>
        <source>values</source>
        <translation>取值</translation>
    </message>
    <message>
        <source>cosine</source>
        <translation>余弦相似度</translation>
    </message>
    <message>
        <source>changed elements</source>
        <translation>变化元素比例</translation>
    </message>
    <message>
        <source>outside tolerance</source>
        <translation>超出容差</translation>
    </message>
    <message>
        <source>new NaN / Inf</source>
        <translation>新增 NaN / Inf</translation>
    </message>
    <message>
        <source>yes (A all zero)</source>
        <translation>是（A 全为零）</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <source>Unexpected error: {error}</source>
        <translation>意外错误：{error}</translation>
    </message>
</context>
<context>
    <name>Exports</name>
    <message>
        <source>Export tensor</source>
        <translation>导出张量</translation>
    </message>
    <message>
        <source>NumPy array (*.npy)</source>
        <translation>NumPy 数组 (*.npy)</translation>
    </message>
    <message>
        <source>Exporting {key}</source>
        <translation>正在导出 {key}</translation>
    </message>
    <message>
        <source>Export statistics</source>
        <translation>导出统计信息</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Exporting statistics</source>
        <translation>正在导出统计信息</translation>
    </message>
    <message>
        <source>Saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message>
        <source>error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <source>info</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>(checkpoint)</source>
        <translation>（整个检查点）</translation>
    </message>
    <message>
        <source>Tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>Scanning starts when a file is opened.</source>
        <translation>打开文件后即开始健康检查。</translation>
    </message>
    <message>
        <source>Scanning every tensor for NaN/Inf, overflow, corrupted, dead and duplicated weights…</source>
        <translation>正在逐个检查张量中的 NaN/Inf、溢出、损坏、失活和重复的权重…</translation>
    </message>
    <message>
        <source>{severity}: {message}

Why it matters: {why}</source>
        <translation>{severity}：{message}

为何重要：{why}</translation>
    </message>
    <message>
        <source>{message}
Why it matters: {why}</source>
        <translation>{message}
为何重要：{why}</translation>
    </message>
    <message>
        <source>%Ln error(s)</source>
        <translation>%Ln 个错误</translation>
    </message>
    <message>
        <source>%Ln warning(s)</source>
        <translation>%Ln 个警告</translation>
    </message>
    <message>
        <source>%Ln note(s)</source>
        <translation>%Ln 条提示</translation>
    </message>
    <message>
        <source>%Ln tensor(s) scanned: {counts}.</source>
        <translation>已检查 %Ln 个张量：{counts}。</translation>
    </message>
    <message>
        <source>%Ln tensor(s) scanned: no problems found.</source>
        <translation>已检查 %Ln 个张量：未发现问题。</translation>
    </message>
</context>
<context>
    <name>HeatmapView</name>
    <message>
        <source>dim {d}</source>
        <translation>第 {d} 维</translation>
    </message>
    <message>
        <source>token</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>feature</source>
        <translation>特征</translation>
    </message>
    <message>
        <source>out channel</source>
        <translation>输出通道</translation>
    </message>
    <message>
        <source>out feature</source>
        <translation>输出特征</translation>
    </message>
    <message>
        <source>in feature</source>
        <translation>输入特征</translation>
    </message>
    <message>
        <source>other dims (flattened)</source>
        <translation>其余维度（展平）</translation>
    </message>
    <message>
        <source>in · {kernel}</source>
        <translation>输入 · {kernel}</translation>
    </message>
    <message>
        <source>Heatmaps are drawn for 2-D and larger weights; 1-D tensors as a line.</source>
        <translation>二维及以上的权重绘制为热力图；一维张量绘制为折线。</translation>
    </message>
    <message>
        <source>Dim shown down the heatmap</source>
        <translation>热力图纵向显示的维度</translation>
    </message>
    <message>
        <source>Dim shown across</source>
        <translation>横向显示的维度</translation>
    </message>
    <message>
        <source>rows</source>
        <translation>行</translation>
    </message>
    <message>
        <source>cols</source>
        <translation>列</translation>
    </message>
    <message>
        <source>index</source>
        <translation>索引</translation>
    </message>
    <message>
        <source>value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Heatmap</source>
        <translation>热力图</translation>
    </message>
    <message>
        <source>output channel</source>
        <translation>输出通道</translation>
    </message>
    <message>
        <source>input × kernel</source>
        <translation>输入 × 卷积核</translation>
    </message>
    <message>
        <source>the rest, flattened</source>
        <translation>其余维度，展平</translation>
    </message>
    <message>
        <source>dim {d} ({size})</source>
        <translation>第 {d} 维（{size}）</translation>
    </message>
    <message>
        <source>dim {d} = </source>
        <translation>第 {d} 维 = </translation>
    </message>
    <message>
        <source>Index along dim {d} (0 to {last})</source>
        <translation>第 {d} 维上的索引（0 到 {last}）</translation>
    </message>
    <message>
        <source>row</source>
        <translation>行</translation>
    </message>
    <message>
        <source>column</source>
        <translation>列</translation>
    </message>
    <message>
        <source>{size} at {where}</source>
        <translation>{size}，位于 {where}</translation>
    </message>
    <message>
        <source>{note}, shown as {rows} × {cols} block means</source>
        <translation>{note}，以 {rows} × {cols} 个块均值显示</translation>
    </message>
    <message>
        <source>{note}; %Ln block(s) with NaN/Inf in magenta</source>
        <translation>{note}；%Ln 块含 NaN/Inf（品红色）</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>折线</translation>
    </message>
    <message>
        <source>%Ln value(s)</source>
        <translation>%Ln 个值</translation>
    </message>
    <message>
        <source>{note}, shown as {n} block means</source>
        <translation>{note}，以 {n} 个块均值显示</translation>
    </message>
    <message>
        <source>{note}; {n} with NaN/Inf (×)</source>
        <translation>{note}；{n} 个含 NaN/Inf（×）</translation>
    </message>
</context>
<context>
    <name>HistogramView</name>
    <message>
        <source>Histogram</source>
        <translation>直方图</translation>
    </message>
    <message>
        <source>Log Y</source>
        <translation>Y 轴对数</translation>
    </message>
    <message>
        <source>value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>count (log)</source>
        <translation>计数（对数）</translation>
    </message>
    <message>
        <source>count</source>
        <translation>计数</translation>
    </message>
</context>
<context>
    <name>LargestPanel</name>
    <message>
        <source>Tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>%Ln tensor(s), largest first (the {shown} largest shown).</source>
        <translation>%Ln 个张量，从大到小（显示最大的 {shown} 个）。</translation>
    </message>
    <message>
        <source>%Ln tensor(s), largest first.</source>
        <translation>%Ln 个张量，从大到小。</translation>
    </message>
</context>
<context>
    <name>List</name>
    <message>
        <source>; </source>
        <translation>；</translation>
    </message>
    <message>
        <source>, </source>
        <translation>，</translation>
    </message>
</context>
<context>
    <name>MetadataPanel</name>
    <message>
        <source>torch.export program</source>
        <translation>torch.export 程序</translation>
    </message>
    <message>
        <source>GGUF metadata</source>
        <translation>GGUF 元数据</translation>
    </message>
    <message>
        <source>GGUF file</source>
        <translation>GGUF 文件</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>概要</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>saved on</source>
        <translation>保存设备</translation>
    </message>
    <message>
        <source>location</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>remote: read by range requests, cached locally</source>
        <translation>远程：按范围请求读取，并在本地缓存</translation>
    </message>
    <message>
        <source>epoch</source>
        <translation>轮次（epoch）</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步数（step）</translation>
    </message>
    <message>
        <source>model weights at</source>
        <translation>模型权重位置</translation>
    </message>
    <message>
        <source>(root)</source>
        <translation>（根）</translation>
    </message>
    <message>
        <source>wrapper prefixes</source>
        <translation>包装前缀</translation>
    </message>
    <message>
        <source>weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>{size} ({ratio}× the weights)</source>
        <translation>{size}（权重的 {ratio} 倍）</translation>
    </message>
    <message>
        <source>optimizer state ({key})</source>
        <translation>优化器状态（{key}）</translation>
    </message>
    <message>
        <source>%Ln state entries mapped to parameter names</source>
        <translation>%Ln 个状态条目已对应到参数名</translation>
    </message>
    <message>
        <source>optimizer → parameters</source>
        <translation>优化器 → 参数</translation>
    </message>
    <message>
        <source>param group {i}</source>
        <translation>参数组 {i}</translation>
    </message>
    <message>
        <source>Hyper-parameters ({key})</source>
        <translation>超参数（{key}）</translation>
    </message>
    <message>
        <source>Globals outside torch&apos;s weights-only allowlist</source>
        <translation>不在 torch weights-only 允许列表中的全局对象</translation>
    </message>
    <message>
        <source>not executed (placeholder)</source>
        <translation>未执行（占位对象）</translation>
    </message>
    <message>
        <source>loaded as plain data</source>
        <translation>作为普通数据加载</translation>
    </message>
    <message>
        <source>All metadata</source>
        <translation>全部元数据</translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation>警告</translation>
    </message>
    <message>
        <source>warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <source>[%Ln item(s)]</source>
        <translation>[%Ln 项]</translation>
    </message>
</context>
<context>
    <name>ModulePanel</name>
    <message>
        <source>parameters (elements outside the model)</source>
        <translation>参数（模型之外则为元素数）</translation>
    </message>
    <message>
        <source>Children by size</source>
        <translation>子模块（按大小）</translation>
    </message>
    <message>
        <source>Whole checkpoint</source>
        <translation>整个检查点</translation>
    </message>
    <message>
        <source>%Ln tensor(s)</source>
        <translation>%Ln 个张量</translation>
    </message>
    <message>
        <source>%Ln parameter(s)</source>
        <translation>%Ln 个参数</translation>
    </message>
    <message>
        <source>%Ln buffer element(s)</source>
        <translation>%Ln 个缓冲区元素</translation>
    </message>
    <message>
        <source>%Ln element(s)</source>
        <translation>%Ln 个元素</translation>
    </message>
    <message>
        <source>dtypes: {dtypes}</source>
        <translation>数据类型：{dtypes}</translation>
    </message>
</context>
<context>
    <name>PrefixBanner</name>
    <message>
        <source>Every model key starts with {prefix} (a training wrapper): a plain model&apos;s load_state_dict expects the keys without it.</source>
        <translation>所有模型键都以 {prefix} 开头（训练时的包装器所加）：普通模型的 load_state_dict 需要不带此前缀的键。</translation>
    </message>
    <message>
        <source>Strip {prefix}</source>
        <translation>去除前缀 {prefix}</translation>
    </message>
</context>
<context>
    <name>ReloadBanner</name>
    <message>
        <source>The file changed on disk (a new checkpoint was written?).</source>
        <translation>磁盘上的文件已更改（是否写入了新的检查点？）。</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>重新加载</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>忽略</translation>
    </message>
</context>
<context>
    <name>ScanFinding</name>
    <message>
        <source>{what} of {numel} values in optimizer state</source>
        <translation>优化器状态的 {numel} 个值中有 {what}</translation>
    </message>
    <message>
        <source>{n} NaN of {numel} values</source>
        <translation>{numel} 个值中有 {n} 个 NaN</translation>
    </message>
    <message>
        <source>{n_inf} ±Inf and {n_limit} at ±65504 of {numel} float16 values</source>
        <translation>{numel} 个 float16 值中有 {n_inf} 个 ±Inf、{n_limit} 个等于 ±65504</translation>
    </message>
    <message>
        <source>{n_inf} ±Inf of {numel} float16 values</source>
        <translation>{numel} 个 float16 值中有 {n_inf} 个 ±Inf</translation>
    </message>
    <message>
        <source>{n_limit} at ±65504 of {numel} float16 values</source>
        <translation>{numel} 个 float16 值中有 {n_limit} 个等于 ±65504</translation>
    </message>
    <message>
        <source>{n} Inf of {numel} values</source>
        <translation>{numel} 个值中有 {n} 个 Inf</translation>
    </message>
    <message>
        <source>running_var has values &lt;= 0 (min {min})</source>
        <translation>running_var 含有 &lt;= 0 的值（最小值 {min}）</translation>
    </message>
    <message>
        <source>largest magnitude {top} exceeds {limit}</source>
        <translation>最大绝对值 {top} 超过 {limit}</translation>
    </message>
    <message>
        <source>all {numel} values are zero</source>
        <translation>全部 {numel} 个值均为零</translation>
    </message>
    <message>
        <source>{n} of {rows} output channels are all zero ({shown})</source>
        <translation>{rows} 个输出通道中有 {n} 个全为零（{shown}）</translation>
    </message>
    <message>
        <source>{share} of the values are zero</source>
        <translation>{share} 的值为零</translation>
    </message>
    <message>
        <source>largest magnitude {top} is {ratio}× the median ({median}) of the {n} tensors {pattern}</source>
        <translation>最大绝对值 {top} 是 {n} 个张量 {pattern} 的中位数（{median}）的 {ratio} 倍</translation>
    </message>
    <message>
        <source>bit-identical to {key}</source>
        <translation>与 {key} 逐位相同</translation>
    </message>
    <message>
        <source>step counter is 0 for {n} parameters</source>
        <translation>{n} 个参数的步数计数器为 0</translation>
    </message>
    <message>
        <source>step counter is 0 for 1 parameter</source>
        <translation>1 个参数的步数计数器为 0</translation>
    </message>
    <message>
        <source>all {n} lora_B matrices are zero: the adapter is untrained</source>
        <translation>全部 {n} 个 lora_B 矩阵均为零：该适配器未经训练</translation>
    </message>
    <message>
        <source>all 1 lora_B matrix are zero: the adapter is untrained</source>
        <translation>唯一的 lora_B 矩阵为零：该适配器未经训练</translation>
    </message>
    <message>
        <source>all zero, while {n} other lora_B are trained</source>
        <translation>全为零，而其他 {n} 个 lora_B 已训练</translation>
    </message>
    <message>
        <source>1 BatchNorm layer at their initial values (weight 1, bias 0, running mean 0, running var 1)</source>
        <translation>1 个 BatchNorm 层处于初始值（weight 1、bias 0、running mean 0、running var 1）</translation>
    </message>
    <message>
        <source>{n} BatchNorm layers at their initial values (weight 1, bias 0, running mean 0, running var 1)</source>
        <translation>{n} 个 BatchNorm 层处于初始值（weight 1、bias 0、running mean 0、running var 1）</translation>
    </message>
    <message>
        <source>1 BatchNorm layer at their initial values (weight 1, bias 0, running mean 0, running var 1), num_batches_tracked = 0</source>
        <translation>1 个 BatchNorm 层处于初始值（weight 1、bias 0、running mean 0、running var 1），num_batches_tracked = 0</translation>
    </message>
    <message>
        <source>{n} BatchNorm layers at their initial values (weight 1, bias 0, running mean 0, running var 1), num_batches_tracked = 0</source>
        <translation>{n} 个 BatchNorm 层处于初始值（weight 1、bias 0、running mean 0、running var 1），num_batches_tracked = 0</translation>
    </message>
    <message>
        <source>running statistics at mean 0 / variance 1 while the layer&apos;s weights were trained</source>
        <translation>该层权重已训练，但运行统计量仍为均值 0 / 方差 1</translation>
    </message>
    <message>
        <source>all {n} normalisation layers at their initial values (weight 1, bias 0)</source>
        <translation>全部 {n} 个归一化层处于初始值（weight 1、bias 0）</translation>
    </message>
    <message>
        <source>its normalisation layer at their initial values (weight 1, bias 0)</source>
        <translation>其归一化层处于初始值（weight 1、bias 0）</translation>
    </message>
    <message>
        <source>looks untrained: {reason}; {n} weight matrices all zero</source>
        <translation>疑似未训练：{reason}；{n} 个权重矩阵全为零</translation>
    </message>
    <message>
        <source>looks untrained: {reason}; 1 weight matrix all zero</source>
        <translation>疑似未训练：{reason}；1 个权重矩阵全为零</translation>
    </message>
    <message>
        <source>looks untrained: {reason}</source>
        <translation>疑似未训练：{reason}</translation>
    </message>
</context>
<context>
    <name>ScanKind</name>
    <message>
        <source>Go back to an earlier checkpoint and look at where the loss diverged (learning rate, gradient clipping, fp16 loss scaling).</source>
        <translation>回退到更早的检查点，找出损失发散的位置（学习率、梯度裁剪、fp16 损失缩放）。</translation>
    </message>
    <message>
        <source>A NaN in a weight spreads through every layer after it: the model&apos;s outputs become NaN.</source>
        <translation>权重中的一个 NaN 会传播到其后的每一层：模型输出将变为 NaN。</translation>
    </message>
    <message>
        <source>An infinite weight turns the activations it touches into Inf or NaN.</source>
        <translation>无穷大的权重会使其涉及的激活值变为 Inf 或 NaN。</translation>
    </message>
    <message>
        <source>float16 cannot hold magnitudes beyond 65504: these values became Inf or were clipped to ±65504 in the conversion, and the layer&apos;s outputs overflow.</source>
        <translation>float16 无法表示绝对值超过 65504 的数：这些值在转换中变成了 Inf 或被截断为 ±65504，该层的输出会溢出。</translation>
    </message>
    <message>
        <source>Convert the float32 original to bfloat16 (float32&apos;s range), or keep this layer in float32.</source>
        <translation>将 float32 原始权重转换为 bfloat16（与 float32 数值范围相同），或让该层保持 float32。</translation>
    </message>
    <message>
        <source>BatchNorm divides by the square root of running_var: a value &lt;= 0 gives NaN or Inf in eval mode.</source>
        <translation>BatchNorm 会除以 running_var 的平方根：值 &lt;= 0 时在 eval 模式下得到 NaN 或 Inf。</translation>
    </message>
    <message>
        <source>Re-estimate the statistics (forward passes in train mode, no gradients) or take them from an earlier checkpoint.</source>
        <translation>重新估计统计量（在 train 模式下做前向传播，不计算梯度），或从更早的检查点中取用。</translation>
    </message>
    <message>
        <source>Magnitudes orders above every sibling layer&apos;s are what random bytes read as numbers look like (a corrupted shard or download) or a layer that blew up: the outputs will be garbage.</source>
        <translation>比所有同类层高出几个数量级的数值，通常是把随机字节当作数字读出的结果（分片或下载已损坏），或是该层数值爆炸：输出将是无意义的。</translation>
    </message>
    <message>
        <source>Re-download or re-copy the file and compare checksums; if the file is intact, use an earlier checkpoint.</source>
        <translation>重新下载或复制该文件并比对校验和；如果文件完好，请改用更早的检查点。</translation>
    </message>
    <message>
        <source>The tensor&apos;s data cannot be read, so loading the file fails or loads something else (an error for model weights, a warning for other tensors).</source>
        <translation>无法读取该张量的数据，加载此文件会失败或读到错误的内容（模型权重为错误，其他张量为警告）。</translation>
    </message>
    <message>
        <source>Re-download or re-save the file; the message says what is wrong.</source>
        <translation>重新下载或重新保存该文件；消息中说明了具体问题。</translation>
    </message>
    <message>
        <source>A weight matrix of zeros makes its layer output only its bias: it was never trained, was zeroed, or was lost in a conversion.</source>
        <translation>全零的权重矩阵使该层只输出偏置：它从未训练、被清零，或在转换中丢失。</translation>
    </message>
    <message>
        <source>Check the layer was trained and loaded (frozen by mistake? missing from the key mapping?).</source>
        <translation>检查该层是否经过训练并被正确加载（是否被误冻结？是否缺失于键映射？）。</translation>
    </message>
    <message>
        <source>An output channel whose weights are all zero always outputs the same value: those units are dead or were pruned.</source>
        <translation>权重全为零的输出通道总是输出相同的值：这些单元已失活或被剪枝。</translation>
    </message>
    <message>
        <source>Expected after structured pruning; otherwise look at the learning rate, weight decay or a masking bug.</source>
        <translation>结构化剪枝后属正常；否则请检查学习率、权重衰减或掩码相关的缺陷。</translation>
    </message>
    <message>
        <source>Two layers with bit-identical weights are almost always one layer loaded twice by a copy or conversion bug, not training.</source>
        <translation>两层权重逐位相同，几乎总是复制或转换缺陷导致同一层被加载了两次，而非训练所致。</translation>
    </message>
    <message>
        <source>Compare with the source checkpoint; check the key mapping of the conversion.</source>
        <translation>与源检查点对比；检查转换时的键映射。</translation>
    </message>
    <message>
        <source>Weights this large are a sign of exploding training, and they overflow in reduced precision.</source>
        <translation>如此大的权重是训练发散（数值爆炸）的迹象，并且在低精度下会溢出。</translation>
    </message>
    <message>
        <source>Look at the training curves near this checkpoint; consider gradient clipping.</source>
        <translation>查看此检查点附近的训练曲线；考虑使用梯度裁剪。</translation>
    </message>
    <message>
        <source>This BatchNorm layer&apos;s weights were trained but its running statistics are still mean 0 / variance 1: in eval mode it normalises with the wrong statistics.</source>
        <translation>此 BatchNorm 层的权重已训练，但运行统计量仍为均值 0 / 方差 1：在 eval 模式下会用错误的统计量做归一化。</translation>
    </message>
    <message>
        <source>Re-estimate the statistics with forward passes in train mode (no gradients).</source>
        <translation>在 train 模式下做前向传播（不计算梯度）以重新估计统计量。</translation>
    </message>
    <message>
        <source>LoRA adds B·A to the base weight: with B all zero this adapter changes nothing, while other adapters in the file were trained.</source>
        <translation>LoRA 将 B·A 加到基础权重上：B 全为零时该适配器不起任何作用，而文件中的其他适配器已训练。</translation>
    </message>
    <message>
        <source>Check that this module received gradients (target_modules, frozen parameters).</source>
        <translation>检查该模块是否收到了梯度（target_modules、被冻结的参数）。</translation>
    </message>
    <message>
        <source>Resuming training from this optimizer state produces NaN at the first step (the model weights may still be fine).</source>
        <translation>从此优化器状态恢复训练，第一步就会产生 NaN（模型权重本身可能仍然正常）。</translation>
    </message>
    <message>
        <source>Resume with a fresh optimizer (weights only), or from an earlier checkpoint.</source>
        <translation>使用新的优化器恢复训练（只加载权重），或从更早的检查点恢复。</translation>
    </message>
    <message>
        <source>The tensor&apos;s logical size dwarfs the data stored for it, so it was not checked and may hide anything.</source>
        <translation>该张量的逻辑大小远超其实际存储的数据，因此未被检查，其中可能隐藏任何内容。</translation>
    </message>
    <message>
        <source>Scan with --force-compute if you trust the file.</source>
        <translation>如果信任此文件，请使用 --force-compute 进行检查。</translation>
    </message>
    <message>
        <source>A model at its initial values gives a random model&apos;s outputs: fine at the start of training, not in a file you ship.</source>
        <translation>处于初始值的模型只会给出随机模型的输出：训练开始时没问题，但不应出现在要发布的文件中。</translation>
    </message>
    <message>
        <source>Make sure this is the file you meant (not step 0).</source>
        <translation>请确认这是你想要的文件（而不是第 0 步的）。</translation>
    </message>
    <message>
        <source>A step counter at 0 means the optimizer&apos;s moment estimates were never updated: resuming behaves like a fresh optimizer.</source>
        <translation>步数计数器为 0 表示优化器的矩估计从未更新：恢复训练时等同于全新的优化器。</translation>
    </message>
    <message>
        <source>Nothing, if training had not stepped yet.</source>
        <translation>如果训练尚未开始迭代，则无需处理。</translation>
    </message>
    <message>
        <source>A weight matrix that is almost all zeros is sparse: expected after pruning, unusual otherwise.</source>
        <translation>几乎全为零的权重矩阵是稀疏的：剪枝后属正常，否则不寻常。</translation>
    </message>
    <message>
        <source>Nothing, if the model was pruned.</source>
        <translation>如果模型经过剪枝，则无需处理。</translation>
    </message>
</context>
<context>
    <name>ScanKindName</name>
    <message>
        <source>nan</source>
        <translation>NaN</translation>
    </message>
    <message>
        <source>inf</source>
        <translation>Inf</translation>
    </message>
    <message>
        <source>fp16 overflow</source>
        <translation>fp16 溢出</translation>
    </message>
    <message>
        <source>bn running var</source>
        <translation>BN running_var 异常</translation>
    </message>
    <message>
        <source>outlier</source>
        <translation>离群值</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>无法读取</translation>
    </message>
    <message>
        <source>all zero</source>
        <translation>全为零</translation>
    </message>
    <message>
        <source>dead rows</source>
        <translation>失活通道</translation>
    </message>
    <message>
        <source>duplicate</source>
        <translation>重复</translation>
    </message>
    <message>
        <source>extreme</source>
        <translation>数值过大</translation>
    </message>
    <message>
        <source>bn stats initial</source>
        <translation>BN 统计量为初始值</translation>
    </message>
    <message>
        <source>lora b zero</source>
        <translation>LoRA B 为零</translation>
    </message>
    <message>
        <source>optimizer nonfinite</source>
        <translation>优化器状态含非有限值</translation>
    </message>
    <message>
        <source>not scanned</source>
        <translation>未检查</translation>
    </message>
    <message>
        <source>untrained</source>
        <translation>未训练</translation>
    </message>
    <message>
        <source>optimizer step zero</source>
        <translation>优化器步数为零</translation>
    </message>
    <message>
        <source>mostly zero</source>
        <translation>大部分为零</translation>
    </message>
</context>
<context>
    <name>ScanSeverity</name>
    <message>
        <source>this model will produce NaN or garbage</source>
        <translation>此模型将输出 NaN 或无意义的结果</translation>
    </message>
    <message>
        <source>likely a training or conversion problem: look before using the file</source>
        <translation>可能是训练或转换问题：使用此文件前请先检查</translation>
    </message>
    <message>
        <source>worth knowing, nothing to fix by itself</source>
        <translation>值得了解，本身无需修复</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Shortcut</source>
        <translation>快捷键</translation>
    </message>
</context>
<context>
    <name>StartPage</name>
    <message>
        <source>Open a checkpoint</source>
        <translation>打开检查点</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <source>A .pth, .pt, .bin, .ckpt or .safetensors file (Ctrl+O)</source>
        <translation>.pth、.pt、.bin、.ckpt 或 .safetensors 文件（Ctrl+O）</translation>
    </message>
    <message>
        <source>Open Folder…</source>
        <translation>打开文件夹…</translation>
    </message>
    <message>
        <source>A sharded Hugging Face, PEFT or torch.distributed folder (Ctrl+Shift+O)</source>
        <translation>分片的 Hugging Face、PEFT 或 torch.distributed 文件夹（Ctrl+Shift+O）</translation>
    </message>
    <message>
        <source>Open URL…</source>
        <translation>打开 URL…</translation>
    </message>
    <message>
        <source>s3://, gs://, https:// or hf:// — read by range requests (Ctrl+Shift+U)</source>
        <translation>s3://、gs://、https:// 或 hf://——按范围请求读取（Ctrl+Shift+U）</translation>
    </message>
    <message>
        <source>…or drop a file or folder anywhere on this window.</source>
        <translation>……或将文件、文件夹拖放到此窗口的任意位置。</translation>
    </message>
    <message>
        <source>Recent</source>
        <translation>最近打开</translation>
    </message>
    <message>
        <source>Files you open appear here.</source>
        <translation>打开过的文件会显示在这里。</translation>
    </message>
    <message>
        <source>Opening</source>
        <translation>正在打开</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Starting</source>
        <translation>正在启动</translation>
    </message>
</context>
<context>
    <name>StatsTable</name>
    <message>
        <source>elements</source>
        <translation>元素数</translation>
    </message>
    <message>
        <source>min</source>
        <translation>最小值</translation>
    </message>
    <message>
        <source>max</source>
        <translation>最大值</translation>
    </message>
    <message>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <source>std</source>
        <translation>标准差</translation>
    </message>
    <message>
        <source>L2 norm</source>
        <translation>L2 范数</translation>
    </message>
    <message>
        <source>zeros</source>
        <translation>零值</translation>
    </message>
    <message>
        <source>Statistic</source>
        <translation>统计量</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
</context>
<context>
    <name>StatusLine</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Loading the compute engine…</source>
        <translation>正在加载计算引擎…</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>{format} · saved on {saved} · computing on {device}</source>
        <translation>{format} · 保存于 {saved} · 在 {device} 上计算</translation>
    </message>
    <message>
        <source>%Ln tensor(s)</source>
        <translation>%Ln 个张量</translation>
    </message>
    <message>
        <source>%Ln model parameter(s)</source>
        <translation>%Ln 个模型参数</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Memory {size}</source>
        <translation>内存 {size}</translation>
    </message>
</context>
<context>
    <name>Summary</name>
    <message>
        <source>no param_groups</source>
        <translation>没有 param_groups</translation>
    </message>
    <message>
        <source>{n_optimizer} optimizer parameters vs {n_model} model parameters: order unknown</source>
        <translation>优化器有 {n_optimizer} 个参数，模型有 {n_model} 个参数：无法确定对应顺序</translation>
    </message>
    <message>
        <source>{key} has shape {shape}, not that of {param}: order unknown</source>
        <translation>{key} 的形状为 {shape}，与 {param} 的不同：无法确定对应顺序</translation>
    </message>
</context>
<context>
    <name>TabbedWindow</name>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>New tab</source>
        <translation>新标签页</translation>
    </message>
    <message>
        <source>… and %Ln more</source>
        <translation>……以及另外 %Ln 个</translation>
    </message>
    <message>
        <source>%Ln tabs have edits that are not saved.</source>
        <translation>%Ln 个标签页有未保存的编辑。</translation>
    </message>
    <message>
        <source>{name} has unsaved edits.</source>
        <translation>{name} 有未保存的编辑。</translation>
    </message>
    <message>
        <source>Save them before quitting?</source>
        <translation>退出前保存吗？</translation>
    </message>
    <message>
        <source>Quit ckptviewer</source>
        <translation>退出 ckptviewer</translation>
    </message>
    <message>
        <source>Save All</source>
        <translation>全部保存</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Discard and Quit</source>
        <translation>放弃并退出</translation>
    </message>
    <message>
        <source>edited from {path}</source>
        <translation>编辑自 {path}</translation>
    </message>
</context>
<context>
    <name>TensorPanel</name>
    <message>
        <source>Compute anyway</source>
        <translation>仍然计算</translation>
    </message>
    <message>
        <source>Compute past the work limit (it may take long and use much memory)</source>
        <translation>超出工作量限制继续计算（可能耗时较长并占用大量内存）</translation>
    </message>
    <message>
        <source>Statistics</source>
        <translation>统计</translation>
    </message>
    <message>
        <source>{dtype} (stored as {encoding})</source>
        <translation>{dtype}（存储为 {encoding}）</translation>
    </message>
    <message>
        <source>saved on {location}</source>
        <translation>保存于 {location}</translation>
    </message>
    <message>
        <source>shares storage with {key}</source>
        <translation>与 {key} 共享存储</translation>
    </message>
    <message>
        <source>{tensor} — computing on {device}…</source>
        <translation>{tensor} —— 正在 {device} 上计算…</translation>
    </message>
</context>
<context>
    <name>Theme</name>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
</context>
<context>
    <name>TreeModel</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>parameter</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>buffer</source>
        <translation>缓冲区</translation>
    </message>
    <message>
        <source>tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>(root)</source>
        <translation>（根）</translation>
    </message>
    <message>
        <source>stored as {encoding}; read as {dtype}</source>
        <translation>存储为 {encoding}；读取为 {dtype}</translation>
    </message>
    <message>
        <source>shares storage with {key}</source>
        <translation>与 {key} 共享存储</translation>
    </message>
    <message>
        <source>%Ln tensor(s)</source>
        <translation>%Ln 个张量</translation>
    </message>
    <message>
        <source>%Ln parameter(s)</source>
        <translation>%Ln 个参数</translation>
    </message>
    <message>
        <source>{tensors}, {parameters}</source>
        <translation>{tensors}，{parameters}</translation>
    </message>
    <message>
        <source>why: {why}</source>
        <translation>原因：{why}</translation>
    </message>
</context>
<context>
    <name>ValuesView</name>
    <message>
        <source>Index</source>
        <translation>索引</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>from </source>
        <translation>起始 </translation>
    </message>
    <message>
        <source>First NaN/Inf</source>
        <translation>第一个 NaN/Inf</translation>
    </message>
    <message>
        <source>Page to the first NaN or Inf of this tensor</source>
        <translation>翻到此张量的第一个 NaN 或 Inf</translation>
    </message>
    <message>
        <source>Values</source>
        <translation>数值</translation>
    </message>
</context>
</TS>
