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
            <source>Loaded as plain data (outside torch's weights-only allowlist, nothing executed): {names}</source>
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
        <name>CompatDialog</name>
        <message>
            <source>Compatibility</source>
            <translation>兼容性</translation>
        </message>
        <message>
            <source>Compatible</source>
            <translation>兼容</translation>
        </message>
        <message>
            <source>Not compatible</source>
            <translation>不兼容</translation>
        </message>
        <message>
            <source>%Ln key(s) match</source>
            <translation>%Ln 个键匹配</translation>
        </message>
        <message>
            <source>%Ln missing</source>
            <translation>缺少 %Ln 个</translation>
        </message>
        <message>
            <source>%Ln unexpected</source>
            <translation>多出 %Ln 个</translation>
        </message>
        <message>
            <source>%Ln shape mismatch(es)</source>
            <translation>%Ln 处形状不匹配</translation>
        </message>
        <message>
            <source>load_state_dict(strict=True) of {source} into the model of {target}</source>
            <translation>将 {source} 以 load_state_dict(strict=True) 载入 {target} 的模型</translation>
        </message>
        <message>
            <source>Key</source>
            <translation>键</translation>
        </message>
        <message>
            <source>Problem</source>
            <translation>问题</translation>
        </message>
        <message>
            <source>missing in the source</source>
            <translation>源中缺少</translation>
        </message>
        <message>
            <source>unexpected (the target has no such key)</source>
            <translation>多余（目标中没有此键）</translation>
        </message>
        <message>
            <source>shape {source} vs {target}</source>
            <translation>形状 {source}，目标为 {target}</translation>
        </message>
        <message>
            <source>Keys differ by a prefix: try the prefix map {map}.</source>
            <translation>键名相差一个前缀：试试前缀映射 {map}。</translation>
        </message>
        <message>
            <source>Every key of the model gets a tensor of its shape: nothing to fix.</source>
            <translation>模型的每个键都能得到形状相符的张量：无需修改。</translation>
        </message>
    </context>
    <context>
        <name>CoreError</name>
        <message>
            <source>a PNG image</source>
            <translation>一张 PNG 图片</translation>
        </message>
        <message>
            <source>a JPEG image</source>
            <translation>一张 JPEG 图片</translation>
        </message>
        <message>
            <source>a GIF image</source>
            <translation>一张 GIF 图片</translation>
        </message>
        <message>
            <source>a PDF document</source>
            <translation>一份 PDF 文档</translation>
        </message>
        <message>
            <source>a {kind}-compressed file (decompress it first)</source>
            <translation>一个 {kind} 压缩文件（请先解压）</translation>
        </message>
        <message>
            <source>a 7-zip archive</source>
            <translation>一个 7-zip 压缩包</translation>
        </message>
        <message>
            <source>an HDF5 file (Keras/h5py weights?)</source>
            <translation>一个 HDF5 文件（Keras/h5py 权重？）</translation>
        </message>
        <message>
            <source>a NumPy .npy array</source>
            <translation>一个 NumPy .npy 数组</translation>
        </message>
        <message>
            <source>an executable (ELF)</source>
            <translation>一个可执行文件（ELF）</translation>
        </message>
        <message>
            <source>a Python pickle that torch.save did not write</source>
            <translation>一个并非由 torch.save 写出的 Python pickle</translation>
        </message>
        <message>
            <source>a JSON file ({n} bytes)</source>
            <translation>一个 JSON 文件（{n} 字节）</translation>
        </message>
        <message>
            <source>a text file ({n} bytes)</source>
            <translation>一个文本文件（{n} 字节）</translation>
        </message>
        <message>
            <source>unrecognised binary data ({n} bytes)</source>
            <translation>无法识别的二进制数据（{n} 字节）</translation>
        </message>
        <message>
            <source>the file is empty (0 bytes)</source>
            <translation>文件为空（0 字节）</translation>
        </message>
        <message>
            <source>a damaged or truncated zip archive (no valid central directory)</source>
            <translation>已损坏或被截断的 zip 压缩包（没有有效的中央目录）</translation>
        </message>
        <message>
            <source>an empty zip archive</source>
            <translation>一个空的 zip 压缩包</translation>
        </message>
        <message>
            <source>a zip archive without data.pkl (it holds {n} other entries)</source>
            <translation>一个没有 data.pkl 的 zip 压缩包（其中有 {n} 个其他条目）</translation>
        </message>
        <message>
            <source>a zip archive that torch's reader rejects (damaged?)</source>
            <translation>一个 torch 读取器拒绝的 zip 压缩包（已损坏？）</translation>
        </message>
        <message>
            <source>{name} is not in this torch's allowlist</source>
            <translation>{name} 不在当前 torch 的允许列表中</translation>
        </message>
        <message>
            <source>{what} asks for {n} bytes; the file's memory budget of {limit} bytes is spent (a memory bomb?)</source>
            <translation>{what} 需要 {n} 字节，但该文件 {limit} 字节的内存预算已用完（内存炸弹？）</translation>
        </message>
        <message>
            <source>objects nested more than {n} levels deep</source>
            <translation>对象嵌套超过 {n} 层</translation>
        </message>
        <message>
            <source>the pickle holds a container inside itself (a reference cycle)</source>
            <translation>pickle 中的容器包含了自身（循环引用）</translation>
        </message>
        <message>
            <source>the pickle shares containers so that listing it would visit {n} entries for {refs} references in the file (a DAG bomb?)</source>
            <translation>pickle 中共享的容器使列出内容需要访问 {n} 个条目，而文件中只有 {refs} 个引用（DAG 炸弹？）</translation>
        </message>
        <message>
            <source>the pickle is nested too deeply to read safely</source>
            <translation>pickle 嵌套过深，无法安全读取</translation>
        </message>
        <message>
            <source>the pickle asks for more memory than this machine has</source>
            <translation>pickle 需要的内存超过本机内存</translation>
        </message>
        <message>
            <source>unknown device {device}: use auto, cpu, cuda or cuda:N</source>
            <translation>未知设备 {device}：请使用 auto、cpu、cuda 或 cuda:N</translation>
        </message>
        <message>
            <source>device {device} was asked for, but this machine has no usable CUDA GPU; choose cpu</source>
            <translation>请求了设备 {device}，但本机没有可用的 CUDA GPU；请选择 cpu</translation>
        </message>
        <message>
            <source>device {device} does not exist: this machine has {n} CUDA device(s)</source>
            <translation>设备 {device} 不存在：本机有 {n} 个 CUDA 设备</translation>
        </message>
        <message>
            <source>device {device} is not supported: use auto, cpu, cuda or cuda:N</source>
            <translation>不支持设备 {device}：请使用 auto、cpu、cuda 或 cuda:N</translation>
        </message>
        <message>
            <source>tensor keys longer than {n} characters, or {total} in all (a key bomb?)</source>
            <translation>张量键名长于 {n} 个字符，或总长超过 {total}（键名炸弹？）</translation>
        </message>
        <message>
            <source>the keys are too long and deep to show as a tree (a key bomb?)</source>
            <translation>键名过长、层级过深，无法显示为树（键名炸弹？）</translation>
        </message>
        <message>
            <source>a run needs at least one checkpoint</source>
            <translation>一次训练至少需要一个检查点</translation>
        </message>
        <message>
            <source>cannot save {n} objects that were not loaded (untrusted classes): {shown}; drop them (Edit ▸ Drop…) or open the file with Trust</source>
            <translation>无法保存 {n} 个未加载的对象（不受信任的类）：{shown}；请删除它们（编辑 ▸ 删除…），或以“信任”方式打开文件</translation>
        </message>
        <message>
            <source>cannot make room for {n} MiB of values ({why})</source>
            <translation>无法为 {n} MiB 的数值腾出空间（{why}）</translation>
        </message>
        <message>
            <source>no such file</source>
            <translation>文件不存在</translation>
        </message>
        <message>
            <source>no such file or folder</source>
            <translation>文件或文件夹不存在</translation>
        </message>
        <message>
            <source>no such object</source>
            <translation>对象不存在</translation>
        </message>
        <message>
            <source>permission denied</source>
            <translation>没有访问权限</translation>
        </message>
        <message>
            <source>cannot access ({why})</source>
            <translation>无法访问（{why}）</translation>
        </message>
        <message>
            <source>cannot read ({why})</source>
            <translation>无法读取（{why}）</translation>
        </message>
        <message>
            <source>is a directory; open a checkpoint file inside it</source>
            <translation>这是一个文件夹；请打开其中的检查点文件</translation>
        </message>
        <message>
            <source>not a regular file (a named pipe)</source>
            <translation>不是普通文件（命名管道）</translation>
        </message>
        <message>
            <source>not a regular file (a device or socket)</source>
            <translation>不是普通文件（设备或套接字）</translation>
        </message>
        <message>
            <source>not a PyTorch checkpoint: {what}</source>
            <translation>不是 PyTorch 检查点：{what}</translation>
        </message>
        <message>
            <source>not a readable checkpoint: {what}</source>
            <translation>不是可读取的检查点：{what}</translation>
        </message>
        <message>
            <source>is a directory without a checkpoint (looked for {names}, adapter_model.*; it is empty)</source>
            <translation>文件夹中没有检查点（查找过 {names}、adapter_model.*；文件夹为空）</translation>
        </message>
        <message>
            <source>is a directory without a checkpoint (looked for {names}, adapter_model.*; it holds {held})</source>
            <translation>文件夹中没有检查点（查找过 {names}、adapter_model.*；其中只有 {held}）</translation>
        </message>
        <message>
            <source>is a link to a file outside the checkpoint folder; refusing to read it</source>
            <translation>是指向检查点文件夹之外文件的链接；拒绝读取</translation>
        </message>
        <message>
            <source>a {fmt} file cannot be a shard</source>
            <translation>{fmt} 文件不能作为分片</translation>
        </message>
        <message>
            <source>none of the {n} shards the index names could be read</source>
            <translation>索引列出的 {n} 个分片都无法读取</translation>
        </message>
        <message>
            <source>no valid weight_map (key -&gt; shard file) in the index</source>
            <translation>索引中没有有效的 weight_map（键 -&gt; 分片文件）</translation>
        </message>
        <message>
            <source>shard name {name} points outside the folder; refusing it</source>
            <translation>分片名 {name} 指向文件夹之外；已拒绝</translation>
        </message>
        <message>
            <source>larger than {n} MiB; not an index or config</source>
            <translation>大于 {n} MiB；不是索引或配置文件</translation>
        </message>
        <message>
            <source>not valid JSON (line {line}, column {column})</source>
            <translation>不是有效的 JSON（第 {line} 行，第 {column} 列）</translation>
        </message>
        <message>
            <source>not valid JSON (not UTF-8 text)</source>
            <translation>不是有效的 JSON（不是 UTF-8 文本）</translation>
        </message>
        <message>
            <source>not valid JSON (nested too deeply or an oversized number)</source>
            <translation>不是有效的 JSON（嵌套过深或数字过大）</translation>
        </message>
        <message>
            <source>Trust runs code from the file; download it and open the local copy to trust it</source>
            <translation>“信任”会运行文件中的代码；请先下载，再以“信任”方式打开本地副本</translation>
        </message>
        <message>
            <source>an old tar-format torch checkpoint (torch &lt; 0.4); open it with Trust</source>
            <translation>旧的 tar 格式 torch 检查点（torch &lt; 0.4）；请以“信任”方式打开</translation>
        </message>
        <message>
            <source>the file asks for more memory than this machine has</source>
            <translation>该文件需要的内存超过本机内存</translation>
        </message>
        <message>
            <source>cannot index the checkpoint ({why})</source>
            <translation>无法为检查点建立索引（{why}）</translation>
        </message>
        <message>
            <source>data.pkl is larger than {n} MiB</source>
            <translation>data.pkl 大于 {n} MiB</translation>
        </message>
        <message>
            <source>cannot read data.pkl ({why})</source>
            <translation>无法读取 data.pkl（{why}）</translation>
        </message>
        <message>
            <source>cannot read legacy checkpoint ({why})</source>
            <translation>无法读取旧格式检查点（{why}）</translation>
        </message>
        <message>
            <source>damaged zip record {name} (its local header is missing)</source>
            <translation>zip 记录 {name} 已损坏（缺少本地文件头）</translation>
        </message>
        <message>
            <source>damaged zip record {name} (cut short)</source>
            <translation>zip 记录 {name} 已损坏（被截断）</translation>
        </message>
        <message>
            <source>damaged zip record {name} ({why})</source>
            <translation>zip 记录 {name} 已损坏（{why}）</translation>
        </message>
        <message>
            <source>damaged zip record ({why})</source>
            <translation>zip 记录已损坏（{why}）</translation>
        </message>
        <message>
            <source>the zip directory is damaged or crafted ({why})</source>
            <translation>zip 目录已损坏或被人为构造（{why}）</translation>
        </message>
        <message>
            <source>storage record {name} is missing</source>
            <translation>缺少存储记录 {name}</translation>
        </message>
        <message>
            <source>storage record {name} is missing (damaged or hand-edited file)</source>
            <translation>缺少存储记录 {name}（文件已损坏或被手工修改）</translation>
        </message>
        <message>
            <source>storage record {name} holds {size} bytes but {need} are needed</source>
            <translation>存储记录 {name} 只有 {size} 字节，但需要 {need} 字节</translation>
        </message>
        <message>
            <source>storage {name} runs past the end of the file (truncated?)</source>
            <translation>存储 {name} 超出了文件末尾（文件被截断？）</translation>
        </message>
        <message>
            <source>storage {name} runs past the end of its archive</source>
            <translation>存储 {name} 超出了其压缩包末尾</translation>
        </message>
        <message>
            <source>storage {name} is cut short</source>
            <translation>存储 {name} 被截断</translation>
        </message>
        <message>
            <source>storage {name} is cut short (truncated file)</source>
            <translation>存储 {name} 被截断（文件不完整）</translation>
        </message>
        <message>
            <source>storage {name} is missing or cut short (truncated file)</source>
            <translation>存储 {name} 缺失或被截断（文件不完整）</translation>
        </message>
        <message>
            <source>storage data runs past the end of the file (truncated file)</source>
            <translation>存储数据超出了文件末尾（文件不完整）</translation>
        </message>
        <message>
            <source>the zip holds two records named {name}; refusing it</source>
            <translation>zip 中有两个名为 {name} 的记录；已拒绝</translation>
        </message>
        <message>
            <source>zip record {name} is compressed; torch.save never compresses records, refusing it</source>
            <translation>zip 记录 {name} 经过压缩；torch.save 从不压缩记录，已拒绝</translation>
        </message>
        <message>
            <source>zip record {name} has inconsistent sizes; refusing it</source>
            <translation>zip 记录 {name} 的大小前后不一致；已拒绝</translation>
        </message>
        <message>
            <source>the checkpoint was closed</source>
            <translation>检查点已关闭</translation>
        </message>
        <message>
            <source>safetensors header claims {n} bytes but the file has only {size}</source>
            <translation>safetensors 头部声明有 {n} 字节，但文件只有 {size} 字节</translation>
        </message>
        <message>
            <source>safetensors header of {n} bytes is larger than the 100 MB limit</source>
            <translation>safetensors 头部有 {n} 字节，超过 100 MB 的上限</translation>
        </message>
        <message>
            <source>safetensors header is not valid JSON (nested too deeply)</source>
            <translation>safetensors 头部不是有效的 JSON（嵌套过深）</translation>
        </message>
        <message>
            <source>safetensors header is not valid JSON ({why})</source>
            <translation>safetensors 头部不是有效的 JSON（{why}）</translation>
        </message>
        <message>
            <source>safetensors header is not a JSON object</source>
            <translation>safetensors 头部不是 JSON 对象</translation>
        </message>
        <message>
            <source>safetensors __metadata__ is not an object of strings</source>
            <translation>safetensors 的 __metadata__ 不是由字符串组成的对象</translation>
        </message>
        <message>
            <source>safetensors header entry {name} points at bytes {a}..{b}, outside the {n} data bytes of the file</source>
            <translation>safetensors 头部条目 {name} 指向字节 {a}..{b}，超出了文件中 {n} 字节的数据区</translation>
        </message>
        <message>
            <source>safetensors header entry {name} has unknown dtype {dtype}</source>
            <translation>safetensors 头部条目 {name} 的数据类型 {dtype} 未知</translation>
        </message>
        <message>
            <source>safetensors header entry {name} says shape {shape} of {dtype} ({need} bytes) but spans {span} bytes</source>
            <translation>safetensors 头部条目 {name} 声明形状为 {shape}、数据类型为 {dtype}（{need} 字节），实际却占 {span} 字节</translation>
        </message>
        <message>
            <source>safetensors header entry {name} starts at byte {begin}, not where the previous tensor ends ({end}): overlapping or missing data</source>
            <translation>safetensors 头部条目 {name} 从字节 {begin} 开始，而不是紧接上一个张量的结尾（{end}）：数据重叠或缺失</translation>
        </message>
        <message>
            <source>safetensors tensors cover {end} of the file's {n} data bytes</source>
            <translation>safetensors 张量只覆盖了文件 {n} 字节数据中的 {end} 字节</translation>
        </message>
        <message>
            <source>a tensor reaches outside its data</source>
            <translation>某个张量超出了其数据范围</translation>
        </message>
        <message>
            <source>unknown GGUF version {v} (versions 2 and 3 can be read)</source>
            <translation>未知的 GGUF 版本 {v}（可读取版本 2 和 3）</translation>
        </message>
        <message>
            <source>GGUF version 1 (before August 2023) is not supported (2 and 3 are)</source>
            <translation>不支持 GGUF 版本 1（2023 年 8 月之前；支持版本 2 和 3）</translation>
        </message>
        <message>
            <source>a big-endian GGUF file; only little-endian GGUF files can be read</source>
            <translation>大端序 GGUF 文件；只能读取小端序 GGUF 文件</translation>
        </message>
        <message>
            <source>GGUF header ends at byte {n} but the file has no tensor data after it</source>
            <translation>GGUF 头部在字节 {n} 处结束，但其后没有张量数据</translation>
        </message>
        <message>
            <source>GGUF header is cut short: {what} needs {n} bytes at byte {pos} of {size}</source>
            <translation>GGUF 头部被截断：{what} 需要从第 {pos} 字节起的 {n} 字节，但文件只有 {size} 字节</translation>
        </message>
        <message>
            <source>GGUF tensors {a} and {b} overlap in the file</source>
            <translation>GGUF 张量 {a} 和 {b} 在文件中重叠</translation>
        </message>
        <message>
            <source>tensor {name} is stored in GGML type {type}, which ckptviewer cannot decode: no statistics for it</source>
            <translation>张量 {name} 以 GGML 类型 {type} 存储，ckptviewer 无法解码：没有它的统计信息</translation>
        </message>
        <message>
            <source>tensor {name} would take {gib} GiB dequantized to float32, more than the {limit} GiB limit</source>
            <translation>张量 {name} 反量化为 float32 后需要 {gib} GiB，超过 {limit} GiB 的上限</translation>
        </message>
        <message>
            <source>tensor {name} is stored as {type}: its values need the gguf package (pip install 'ckptviewer[gguf]')</source>
            <translation>张量 {name} 以 {type} 存储：读取其数值需要 gguf 包（pip install 'ckptviewer[gguf]'）</translation>
        </message>
        <message>
            <source>tensor {name} is stored as {type}, which the installed gguf package does not know: no statistics for it (a newer gguf may)</source>
            <translation>张量 {name} 以 {type} 存储，已安装的 gguf 包不认识该类型：没有它的统计信息（更新版本的 gguf 或许可以）</translation>
        </message>
        <message>
            <source>tensor {name} is stored as {type}, which the installed gguf package cannot dequantize: no statistics for it</source>
            <translation>张量 {name} 以 {type} 存储，已安装的 gguf 包无法反量化：没有它的统计信息</translation>
        </message>
        <message>
            <source>tensor {name} is cut short (truncated file?)</source>
            <translation>张量 {name} 被截断（文件不完整？）</translation>
        </message>
        <message>
            <source>not a torch.export archive (archive_format is {fmt})</source>
            <translation>不是 torch.export 存档（archive_format 为 {fmt}）</translation>
        </message>
        <message>
            <source>torch.export archive of version {v} is not supported (this build reads archive version {known})</source>
            <translation>不支持版本为 {v} 的 torch.export 存档（本版本可读取存档版本 {known}）</translation>
        </message>
        <message>
            <source>torch.export archive of schema version {v} is not supported (this build reads schema version {known}, as torch {torch} writes)</source>
            <translation>不支持模式版本为 {v} 的 torch.export 存档（本版本可读取模式版本 {known}，即 torch {torch} 写出的版本）</translation>
        </message>
        <message>
            <source>torch.export archive of byte order {order} is not supported</source>
            <translation>不支持字节序为 {order} 的 torch.export 存档</translation>
        </message>
        <message>
            <source>an AOTInductor package (compiled model code) without an exported program; ckptviewer reads torch.export.save archives</source>
            <translation>这是不含导出程序的 AOTInductor 包（编译后的模型代码）；ckptviewer 读取的是 torch.export.save 存档</translation>
        </message>
        <message>
            <source>a torch.export archive without a models/*.json program</source>
            <translation>torch.export 存档中没有 models/*.json 程序</translation>
        </message>
        <message>
            <source>record {name} runs past the end of the file (truncated?)</source>
            <translation>记录 {name} 超出了文件末尾（文件被截断？）</translation>
        </message>
        <message>
            <source>record {name} is cut short</source>
            <translation>记录 {name} 被截断</translation>
        </message>
        <message>
            <source>{what} would visit {n} elements, but the file stores only {stored} for it (overlapping strides or a huge sparse shape); refused to keep the work bounded. Press Compute anyway to compute it all the same</source>
            <translation>{what}需要访问 {n} 个元素，但文件中只为它存储了 {stored} 个（步长重叠或稀疏形状极大）；为限制工作量已拒绝。如仍要计算，请点击“仍然计算”</translation>
        </message>
        <message>
            <source>{what} would need {need} of memory (limit {limit}); press Compute anyway to compute it all the same</source>
            <translation>{what}需要 {need} 内存（上限 {limit}）；如仍要计算，请点击“仍然计算”</translation>
        </message>
        <message>
            <source>torch cannot compute with dtype {dtype}</source>
            <translation>torch 无法用数据类型 {dtype} 计算</translation>
        </message>
        <message>
            <source>a meta tensor holds no data</source>
            <translation>meta 张量不含数据</translation>
        </message>
        <message>
            <source>cannot dequantize ({why})</source>
            <translation>无法反量化（{why}）</translation>
        </message>
        <message>
            <source>changed on disk since it was opened ({why})</source>
            <translation>打开后磁盘上的文件已被修改（{why}）</translation>
        </message>
        <message>
            <source>access denied (check your credentials)</source>
            <translation>访问被拒绝（请检查凭据）</translation>
        </message>
        <message>
            <source>remote paths need fsspec: pip install 'ckptviewer[remote]'</source>
            <translation>远程路径需要 fsspec：pip install 'ckptviewer[remote]'</translation>
        </message>
        <message>
            <source>{scheme}:// needs {package}: pip install {same}</source>
            <translation>{scheme}:// 需要 {package}：pip install {same}</translation>
        </message>
        <message>
            <source>no filesystem is known for {scheme}:// URLs</source>
            <translation>没有可处理 {scheme}:// 地址的文件系统</translation>
        </message>
        <message>
            <source>the server does not say how large the file is</source>
            <translation>服务器没有告知文件大小</translation>
        </message>
        <message>
            <source>the server sent {n} bytes for a range of {asked} (does it honour Range requests?)</source>
            <translation>请求 {asked} 字节的范围，服务器却发送了 {n} 字节（它支持 Range 请求吗？）</translation>
        </message>
        <message>
            <source>the server answered {status} to a Range request (it must honour Range requests)</source>
            <translation>服务器对 Range 请求返回了 {status}（服务器必须支持 Range 请求）</translation>
        </message>
        <message>
            <source>the server sent other bytes than the range asked for</source>
            <translation>服务器发送的字节与请求的范围不符</translation>
        </message>
        <message>
            <source>the server sent more bytes than the range asked for</source>
            <translation>服务器发送的字节多于请求的范围</translation>
        </message>
        <message>
            <source>the file changed on the server while it was read; open it again</source>
            <translation>读取期间服务器上的文件发生了变化；请重新打开</translation>
        </message>
        <message>
            <source>remote inputs are read-only</source>
            <translation>远程输入是只读的</translation>
        </message>
        <message>
            <source>no checkpoints found</source>
            <translation>未找到检查点</translation>
        </message>
        <message>
            <source>no checkpoints found ({why})</source>
            <translation>未找到检查点（{why}）</translation>
        </message>
        <message>
            <source>no file matches this pattern</source>
            <translation>没有文件匹配此模式</translation>
        </message>
        <message>
            <source>is a directory</source>
            <translation>是一个文件夹</translation>
        </message>
        <message>
            <source>is a folder</source>
            <translation>是一个文件夹</translation>
        </message>
        <message>
            <source>no such folder</source>
            <translation>文件夹不存在</translation>
        </message>
        <message>
            <source>is a file of an input checkpoint; refusing to overwrite the source</source>
            <translation>是输入检查点的文件；拒绝覆盖源文件</translation>
        </message>
        <message>
            <source>is an object of an input checkpoint; refusing to overwrite the source</source>
            <translation>是输入检查点的对象；拒绝覆盖源文件</translation>
        </message>
        <message>
            <source>could not write ({why})</source>
            <translation>无法写入（{why}）</translation>
        </message>
        <message>
            <source>cannot write to a web server; write to a local path or object storage</source>
            <translation>无法写入 Web 服务器；请写入本地路径或对象存储</translation>
        </message>
        <message>
            <source>torch.save cannot write dtype {dtype}; drop or cast that tensor</source>
            <translation>torch.save 无法写出数据类型 {dtype}；请删除该张量或转换其类型</translation>
        </message>
        <message>
            <source>dtype {dtype} cannot be stored in safetensors</source>
            <translation>数据类型 {dtype} 无法存入 safetensors</translation>
        </message>
        <message>
            <source>sparse, quantized and meta tensors cannot be stored in safetensors</source>
            <translation>稀疏、量化和 meta 张量无法存入 safetensors</translation>
        </message>
        <message>
            <source>statistics</source>
            <translation>统计</translation>
        </message>
        <message>
            <source>a dense copy</source>
            <translation>稠密副本</translation>
        </message>
        <message>
            <source>densifying this sparse tensor</source>
            <translation>将此稀疏张量转为稠密</translation>
        </message>
        <message>
            <source>a histogram</source>
            <translation>直方图</translation>
        </message>
        <message>
            <source>a comparison</source>
            <translation>对比</translation>
        </message>
        <message>
            <source>an export</source>
            <translation>导出</translation>
        </message>
        <message>
            <source>an exported copy</source>
            <translation>导出的副本</translation>
        </message>
        <message>
            <source>writing it out densely</source>
            <translation>以稠密形式写出</translation>
        </message>
        <message>
            <source>a heatmap</source>
            <translation>热力图</translation>
        </message>
        <message>
            <source>{where}: {cause}</source>
            <translation>{where}：{cause}</translation>
        </message>
    </context>
    <context>
        <name>CoreMessage</name>
        <message>
            <source>key</source>
            <translation>键</translation>
        </message>
        <message>
            <source>tensor key</source>
            <translation>张量键</translation>
        </message>
        <message>
            <source>model key</source>
            <translation>模型键</translation>
        </message>
        <message>
            <source>source key</source>
            <translation>源键</translation>
        </message>
        <message>
            <source>kept key</source>
            <translation>保留的键</translation>
        </message>
        <message>
            <source>{n} source tensor(s) not taken: a prefix map puts another source key on the same target key</source>
            <translation>{n} 个源张量未采用：某个前缀映射把另一个源键映射到了同一个目标键</translation>
        </message>
        <message>
            <source>only {matched} of {total} target tensor(s) ({pct}) have a match in the source; {homeless} source tensor(s) have no place in the target — are these the same architecture?</source>
            <translation>{total} 个目标张量中只有 {matched} 个（{pct}）在源中有对应；{homeless} 个源张量在目标中无对应位置——两者是同一架构吗？</translation>
        </message>
        <message>
            <source>{n} tensor(s) outside the model state_dict (optimizer state, ...) kept from {name} as they are, not averaged</source>
            <translation>模型 state_dict 之外的 {n} 个张量（优化器状态等）按 {name} 原样保留，未参与平均</translation>
        </message>
        <message>
            <source>{n} model tensor(s) the EMA does not hold taken from the model: {keys}</source>
            <translation>EMA 中没有的 {n} 个模型张量取自模型：{keys}</translation>
        </message>
        <message>
            <source>left as they are (not floating point, or scalars): {keys}</source>
            <translation>保持不变（非浮点或标量）：{keys}</translation>
        </message>
        <message>
            <source>left as they are (not floating point): {types}</source>
            <translation>保持不变（非浮点）：{types}</translation>
        </message>
        <message>
            <source>nothing to cast: every selected floating-point tensor is already {dtype}</source>
            <translation>无需转换：所选浮点张量都已是 {dtype}</translation>
        </message>
        <message>
            <source>weights only: left out {keys}</source>
            <translation>仅权重：略去了 {keys}</translation>
        </message>
        <message>
            <source>no wrapper prefix (module., _orig_mod.) found: keys unchanged</source>
            <translation>未找到包装前缀（module.、_orig_mod.）：键名未变</translation>
        </message>
        <message>
            <source>{n} kept key(s) do not start with {prefix} and keep their full name</source>
            <translation>{n} 个保留的键不以 {prefix} 开头，保留完整键名</translation>
        </message>
        <message>
            <source>{n} key(s) do not start with {prefix}</source>
            <translation>{n} 个键不以 {prefix} 开头</translation>
        </message>
        <message>
            <source>{option} {pattern} matched {n} key(s), but no name changes</source>
            <translation>{option} {pattern} 匹配到 {n} 个键，但键名没有变化</translation>
        </message>
        <message>
            <source>{module}: the config says r={r}, the adapter's A has {rows} rows</source>
            <translation>{module}：配置中 r={r}，但适配器的 A 有 {rows} 行</translation>
        </message>
        <message>
            <source>{option} {pattern} matched no {among}</source>
            <translation>{option} {pattern} 未匹配到任何内容（{among}）</translation>
        </message>
        <message>
            <source>{n} NaN/Inf value(s) at {ckpt}: the run's first</source>
            <translation>{ckpt} 处有 {n} 个 NaN/Inf 值：本次训练中首次出现</translation>
        </message>
        <message>
            <source>the run's first NaN/Inf: {n} value(s) in {layers} layer(s) at {ckpt} ({keys})</source>
            <translation>本次训练首次出现 NaN/Inf：{ckpt} 处 {layers} 个层中共 {n} 个值（{keys}）</translation>
        </message>
        <message>
            <source>NaN/Inf then in {n} more layer(s) from {a} to {b} ({keys})</source>
            <translation>随后从 {a} 到 {b}，另有 {n} 个层出现 NaN/Inf（{keys}）</translation>
        </message>
        <message>
            <source>NaN/Inf then in {n} more layer(s) from {a} to {b}</source>
            <translation>随后从 {a} 到 {b}，另有 {n} 个层出现 NaN/Inf</translation>
        </message>
        <message>
            <source>NaN/Inf then in {n} more layer(s) at {ckpt} ({keys})</source>
            <translation>随后在 {ckpt} 处，另有 {n} 个层出现 NaN/Inf（{keys}）</translation>
        </message>
        <message>
            <source>NaN/Inf then in {n} more layer(s) at {ckpt}</source>
            <translation>随后在 {ckpt} 处，另有 {n} 个层出现 NaN/Inf</translation>
        </message>
        <message>
            <source>{prefix}.*: all {n} layers never change across the run (from {ckpt} on)</source>
            <translation>{prefix}.*：全部 {n} 个层在整个训练中从未变化（自 {ckpt} 起）</translation>
        </message>
        <message>
            <source>{prefix}.*: all {n} layers stop changing at {ckpt} while other layers train</source>
            <translation>{prefix}.*：全部 {n} 个层在 {ckpt} 处停止变化，而其他层仍在训练</translation>
        </message>
        <message>
            <source>never changes across the run (from {ckpt} on)</source>
            <translation>在整个训练中从未变化（自 {ckpt} 起）</translation>
        </message>
        <message>
            <source>stops changing at {ckpt} while other layers train</source>
            <translation>在 {ckpt} 处停止变化，而其他层仍在训练</translation>
        </message>
        <message>
            <source>norm fell to {norm} at {ckpt} (was {peak})</source>
            <translation>范数在 {ckpt} 处降至 {norm}（原为 {peak}）</translation>
        </message>
        <message>
            <source>relative update {r} at {ckpt}, {x}x its earlier median per step</source>
            <translation>{ckpt} 处相对更新量为 {r}，是此前每步中位数的 {x} 倍</translation>
        </message>
        <message>
            <source>norm {norm} at {ckpt}, {x}x its earlier median</source>
            <translation>{ckpt} 处范数为 {norm}，是此前中位数的 {x} 倍</translation>
        </message>
        <message>
            <source>model weights bit-identical to {ckpt}</source>
            <translation>模型权重与 {ckpt} 逐位相同</translation>
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
        <name>EditDialog</name>
        <message>
            <source>mismatch: {source_shape} {source_dtype} vs target {target_shape} {target_dtype}</source>
            <translation>不匹配：源为 {source_shape} {source_dtype}，目标为 {target_shape} {target_dtype}</translation>
        </message>
        <message>
            <source>“{label}” pattern matched nothing</source>
            <translation>“{label}”中的模式未匹配到任何内容</translation>
        </message>
        <message>
            <source>excluded (the target's tensor is kept)</source>
            <translation>已排除（保留目标的张量）</translation>
        </message>
        <message>
            <source>not grafted: {reason}</source>
            <translation>未嫁接：{reason}</translation>
        </message>
        <message>
            <source>cast to {dtype}</source>
            <translation>转换为 {dtype}</translation>
        </message>
        <message>
            <source>grafted from the source</source>
            <translation>从源嫁接</translation>
        </message>
        <message>
            <source>averaged</source>
            <translation>已平均</translation>
        </message>
        <message>
            <source>LoRA merged</source>
            <translation>已合并 LoRA</translation>
        </message>
        <message>
            <source>resized</source>
            <translation>已调整大小</translation>
        </message>
        <message>
            <source>changed</source>
            <translation>已变化</translation>
        </message>
        <message>
            <source>removed</source>
            <translation>已移除</translation>
        </message>
        <message>
            <source>warning: {message}</source>
            <translation>警告：{message}</translation>
        </message>
        <message>
            <source>Edit ▸ {entry}</source>
            <translation>编辑 ▸ {entry}</translation>
        </message>
        <message>
            <source>see Edit ▸ Check compatibility with…</source>
            <translation>参见 编辑 ▸ 检查兼容性…</translation>
        </message>
        <message>
            <source>Computing preview…</source>
            <translation>正在计算预览…</translation>
        </message>
        <message>
            <source>Key</source>
            <translation>键</translation>
        </message>
        <message>
            <source>Change</source>
            <translation>变化</translation>
        </message>
        <message>
            <source>Apply</source>
            <translation>应用</translation>
        </message>
        <message>
            <source>Add…</source>
            <translation>添加…</translation>
        </message>
        <message>
            <source>Remove</source>
            <translation>移除</translation>
        </message>
        <message>
            <source>Preview</source>
            <translation>预览</translation>
        </message>
        <message>
            <source>tensor bytes {before} → {after}</source>
            <translation>张量字节数 {before} → {after}</translation>
        </message>
        <message>
            <source>&lt;b&gt;Warning:&lt;/b&gt; {message}</source>
            <translation>&lt;b&gt;警告：&lt;/b&gt;{message}</translation>
        </message>
        <message>
            <source>&lt;b&gt;Cannot apply:&lt;/b&gt; {message}</source>
            <translation>&lt;b&gt;无法应用：&lt;/b&gt;{message}</translation>
        </message>
        <message>
            <source>… %Ln more</source>
            <translation>… 另有 %Ln 项</translation>
        </message>
    </context>
    <context>
        <name>EditOperation</name>
        <message>
            <source>glob of whole dotted keys, e.g. 'backbone.*'</source>
            <translation>匹配完整点分键名的通配模式，例如 'backbone.*'</translation>
        </message>
        <message>
            <source>Strip prefix…</source>
            <translation>去除前缀…</translation>
        </message>
        <message>
            <source>Removes the wrapper prefixes DDP/DataParallel (module.) and torch.compile (_orig_mod.) add. Only the model weights are renamed; optimizer, epoch, args are kept.</source>
            <translation>去除 DDP/DataParallel（module.）和 torch.compile（_orig_mod.）添加的包装前缀。只重命名模型权重；优化器、轮次（epoch）、args 保持不变。</translation>
        </message>
        <message>
            <source>Prefix</source>
            <translation>前缀</translation>
        </message>
        <message>
            <source>strip this prefix instead of the detected ones</source>
            <translation>去除此前缀，而不是检测到的前缀</translation>
        </message>
        <message>
            <source>the detected ones</source>
            <translation>检测到的前缀</translation>
        </message>
        <message>
            <source>Weights only (write the bare state_dict)</source>
            <translation>仅权重（写出单纯的 state_dict）</translation>
        </message>
        <message>
            <source>write the bare model state_dict</source>
            <translation>只写出模型的 state_dict</translation>
        </message>
        <message>
            <source>Add prefix…</source>
            <translation>添加前缀…</translation>
        </message>
        <message>
            <source>Prepends the prefix to every key of the model state_dict (module. for a DDP model).</source>
            <translation>在模型 state_dict 的每个键前加上前缀（DDP 模型为 module.）。</translation>
        </message>
        <message>
            <source>e.g. module.</source>
            <translation>例如 module.</translation>
        </message>
        <message>
            <source>Extract subtree…</source>
            <translation>提取子树…</translation>
        </message>
        <message>
            <source>Keeps only the matching tensors, as a flat state_dict.</source>
            <translation>只保留匹配的张量，作为扁平的 state_dict。</translation>
        </message>
        <message>
            <source>Keys (globs)</source>
            <translation>键（通配模式）</translation>
        </message>
        <message>
            <source>backbone.*</source>
            <translation>backbone.*</translation>
        </message>
        <message>
            <source>Re-root (remove prefix)</source>
            <translation>重设根（去除前缀）</translation>
        </message>
        <message>
            <source>backbone.</source>
            <translation>backbone.</translation>
        </message>
        <message>
            <source>remove PREFIX from the kept keys</source>
            <translation>从保留的键中去除该前缀</translation>
        </message>
        <message>
            <source>Graft from…</source>
            <translation>嫁接自…</translation>
        </message>
        <message>
            <source>Copies model tensors from the source into this checkpoint. Keys are aligned without wrapper prefixes; every shape and dtype must agree.</source>
            <translation>把源中的模型张量复制到此检查点。键名去掉包装前缀后对齐；形状和数据类型必须一致。</translation>
        </message>
        <message>
            <source>Prefix maps (SRC=DST …)</source>
            <translation>前缀映射（源=目标 …）</translation>
        </message>
        <message>
            <source>e.g. encoder.=backbone.</source>
            <translation>例如 encoder.=backbone.</translation>
        </message>
        <message>
            <source>rename source key prefixes</source>
            <translation>重命名源键的前缀</translation>
        </message>
        <message>
            <source>Include (globs)</source>
            <translation>包含（通配模式）</translation>
        </message>
        <message>
            <source>all</source>
            <translation>全部</translation>
        </message>
        <message>
            <source>graft only source keys matching</source>
            <translation>只嫁接匹配的源键</translation>
        </message>
        <message>
            <source>Exclude (globs)</source>
            <translation>排除（通配模式）</translation>
        </message>
        <message>
            <source>e.g. fc.*</source>
            <translation>例如 fc.*</translation>
        </message>
        <message>
            <source>leave out source keys matching</source>
            <translation>跳过匹配的源键</translation>
        </message>
        <message>
            <source>Keep the target's tensor where shapes differ</source>
            <translation>形状不同时保留目标的张量</translation>
        </message>
        <message>
            <source>keep the target's tensor where shapes differ</source>
            <translation>形状不同时保留目标的张量</translation>
        </message>
        <message>
            <source>Rename…</source>
            <translation>重命名…</translation>
        </message>
        <message>
            <source>re.sub on every key of the model state_dict.</source>
            <translation>对模型 state_dict 的每个键执行 re.sub。</translation>
        </message>
        <message>
            <source>Pattern (regex)</source>
            <translation>模式（正则表达式）</translation>
        </message>
        <message>
            <source>Replace with</source>
            <translation>替换为</translation>
        </message>
        <message>
            <source>Drop…</source>
            <translation>删除…</translation>
        </message>
        <message>
            <source>Removes matching tensors or whole entries (a glob naming a container drops all of it).</source>
            <translation>删除匹配的张量或整个条目（匹配到容器时删除其全部内容）。</translation>
        </message>
        <message>
            <source>fc.*  optimizer</source>
            <translation>fc.*  optimizer</translation>
        </message>
        <message>
            <source>Cast…</source>
            <translation>转换类型…</translation>
        </message>
        <message>
            <source>Floating-point tensors only; integer and bool tensors are left as they are.</source>
            <translation>只转换浮点张量；整数和布尔张量保持不变。</translation>
        </message>
        <message>
            <source>To dtype</source>
            <translation>目标数据类型</translation>
        </message>
        <message>
            <source>Keys (globs; empty: model weights)</source>
            <translation>键（通配模式；留空：模型权重）</translation>
        </message>
        <message>
            <source>which tensors (default: the model weights)</source>
            <translation>要转换的张量（默认：模型权重）</translation>
        </message>
        <message>
            <source>Average with…</source>
            <translation>与其他检查点平均…</translation>
        </message>
        <message>
            <source>The average of every floating-point model tensor over this checkpoint and the ones listed, in float64, rounded once. Integer tensors (num_batches_tracked) come from the last one; everything outside the model (optimizer, epoch) stays this one's. Keys, shapes and dtypes must agree.</source>
            <translation>对此检查点和所列检查点的每个浮点模型张量求平均，以 float64 计算，只舍入一次。整数张量（num_batches_tracked）取自最后一个；模型之外的内容（优化器、轮次）保留此检查点的。键、形状和数据类型必须一致。</translation>
        </message>
        <message>
            <source>Weights (one per checkpoint; empty: uniform)</source>
            <translation>权重（每个检查点一个；留空：均匀）</translation>
        </message>
        <message>
            <source>e.g. 1 1 2</source>
            <translation>例如 1 1 2</translation>
        </message>
        <message>
            <source>relative weights, one per input in order; divided by their sum</source>
            <translation>相对权重，按顺序每个输入一个；除以它们的和</translation>
        </message>
        <message>
            <source>Merge LoRA adapter…</source>
            <translation>合并 LoRA 适配器…</translation>
        </message>
        <message>
            <source>Folds the adapter into the base weights: W + scale · B @ A (scale = lora_alpha / r, or / √r with rsLoRA; rank_pattern, alpha_pattern and fan_in_fan_out as in adapter_config.json), as peft's merge_and_unload.</source>
            <translation>把适配器并入基础权重：W + scale · B @ A（scale = lora_alpha / r，rsLoRA 时为 / √r；rank_pattern、alpha_pattern 和 fan_in_fan_out 按 adapter_config.json），与 peft 的 merge_and_unload 相同。</translation>
        </message>
        <message>
            <source>Take EMA weights…</source>
            <translation>取用 EMA 权重…</translation>
        </message>
        <message>
            <source>Finds the EMA weights (state_dict_ema, model_ema, ema_state_dict, an ema entry's shadow, a Lightning EMA callback) and keeps them alone, under the model's keys: a state_dict that loads into the model.</source>
            <translation>找到 EMA 权重（state_dict_ema、model_ema、ema_state_dict、ema 条目的 shadow、Lightning 的 EMA 回调），只保留它们，并使用模型的键名：得到可直接载入模型的 state_dict。</translation>
        </message>
        <message>
            <source>Where the EMA is (empty: found)</source>
            <translation>EMA 所在位置（留空：自动查找）</translation>
        </message>
        <message>
            <source>found automatically</source>
            <translation>自动查找</translation>
        </message>
        <message>
            <source>the dotted key of the EMA weights, e.g. model_ema</source>
            <translation>EMA 权重的点分键名，例如 model_ema</translation>
        </message>
        <message>
            <source>Resize head…</source>
            <translation>调整分类头大小…</translation>
        </message>
        <message>
            <source>Resizes the matching weights and biases to the number of rows: the first rows are kept, new ones initialised from a seeded generator (the recipe draws the same values).</source>
            <translation>把匹配的权重和偏置调整为指定行数：保留前面的行，新行由带种子的生成器初始化（配方脚本生成相同的值）。</translation>
        </message>
        <message>
            <source>fc.*</source>
            <translation>fc.*</translation>
        </message>
        <message>
            <source>Rows (classes)</source>
            <translation>行数（类别数）</translation>
        </message>
        <message>
            <source>the new number of rows</source>
            <translation>新的行数</translation>
        </message>
        <message>
            <source>New rows</source>
            <translation>新行</translation>
        </message>
        <message>
            <source>zeros, normal (std 0.01) or kaiming (as nn.Linear)</source>
            <translation>zeros、normal（标准差 0.01）或 kaiming（同 nn.Linear）</translation>
        </message>
        <message>
            <source>Seed</source>
            <translation>种子</translation>
        </message>
        <message>
            <source>the generator's seed (default 0)</source>
            <translation>生成器的种子（默认 0）</translation>
        </message>
        <message>
            <source>Re-initialise every row</source>
            <translation>重新初始化所有行</translation>
        </message>
        <message>
            <source>keep no row: initialise them all</source>
            <translation>不保留任何行：全部重新初始化</translation>
        </message>
    </context>
    <context>
        <name>EditRefusal</name>
        <message>
            <source>graft</source>
            <translation>嫁接</translation>
        </message>
        <message>
            <source>resize</source>
            <translation>调整大小</translation>
        </message>
        <message>
            <source>extract</source>
            <translation>提取</translation>
        </message>
        <message>
            <source>drop</source>
            <translation>删除</translation>
        </message>
        <message>
            <source>cast</source>
            <translation>转换</translation>
        </message>
        <message>
            <source>strip</source>
            <translation>去除</translation>
        </message>
        <message>
            <source>rename</source>
            <translation>重命名</translation>
        </message>
        <message>
            <source>a LoRA adapter</source>
            <translation>一个 LoRA 适配器</translation>
        </message>
        <message>
            <source>more checkpoints</source>
            <translation>更多检查点</translation>
        </message>
        <message>
            <source>; </source>
            <translation>；</translation>
        </message>
        <message>
            <source> (+{n} more)</source>
            <translation>（另有 {n} 处）</translation>
        </message>
        <message>
            <source>{key}: {problem}</source>
            <translation>{key}：{problem}</translation>
        </message>
        <message>
            <source>not in {name}</source>
            <translation>{name} 中没有</translation>
        </message>
        <message>
            <source>only in {name}</source>
            <translation>仅在 {name} 中</translation>
        </message>
        <message>
            <source>{a} {adt} vs {b} {bdt} in {name}</source>
            <translation>{a} {adt}，而 {name} 中为 {b} {bdt}</translation>
        </message>
        <message>
            <source>in the EMA, not in the model</source>
            <translation>在 EMA 中，但不在模型中</translation>
        </message>
        <message>
            <source>{a} in the EMA, {b} in the model</source>
            <translation>EMA 中为 {a}，模型中为 {b}</translation>
        </message>
        <message>
            <source>lora_{part} is missing in the adapter</source>
            <translation>适配器中缺少 lora_{part}</translation>
        </message>
        <message>
            <source>not in the base model</source>
            <translation>基础模型中没有</translation>
        </message>
        <message>
            <source>{w} cannot take B {b} @ A {a} (fan_in_fan_out)</source>
            <translation>{w} 无法加上 B {b} @ A {a}（fan_in_fan_out）</translation>
        </message>
        <message>
            <source>{w} cannot take B {b} @ A {a}</source>
            <translation>{w} 无法加上 B {b} @ A {a}</translation>
        </message>
        <message>
            <source>{dtype} weights cannot take a LoRA delta</source>
            <translation>{dtype} 权重无法加上 LoRA 增量</translation>
        </message>
        <message>
            <source>the adapter config gives r={r}, alpha={alpha}</source>
            <translation>适配器配置给出的是 r={r}，alpha={alpha}</translation>
        </message>
        <message>
            <source>{a} {adt} in the source vs {b} {bdt} in the target</source>
            <translation>源为 {a} {adt}，目标为 {b} {bdt}</translation>
        </message>
        <message>
            <source>not a tensor</source>
            <translation>不是张量</translation>
        </message>
        <message>
            <source>not in --include</source>
            <translation>不在 --include 中</translation>
        </message>
        <message>
            <source>excluded</source>
            <translation>已排除</translation>
        </message>
        <message>
            <source>{key} is not a tensor in the target</source>
            <translation>目标中的 {key} 不是张量</translation>
        </message>
        <message>
            <source>{key} is not in the target</source>
            <translation>目标中没有 {key}</translation>
        </message>
        <message>
            <source>another source key already goes to {key}</source>
            <translation>已有另一个源键映射到 {key}</translation>
        </message>
        <message>
            <source>missing ), unterminated subpattern at position {pos}</source>
            <translation>缺少 )，子模式未闭合（位置 {pos}）</translation>
        </message>
        <message>
            <source>unbalanced parenthesis at position {pos}</source>
            <translation>括号不配对（位置 {pos}）</translation>
        </message>
        <message>
            <source>nothing to repeat at position {pos}</source>
            <translation>重复符号前没有内容（位置 {pos}）</translation>
        </message>
        <message>
            <source>multiple repeat at position {pos}</source>
            <translation>重复符号连用（位置 {pos}）</translation>
        </message>
        <message>
            <source>unterminated character set at position {pos}</source>
            <translation>字符集未闭合（位置 {pos}）</translation>
        </message>
        <message>
            <source>bad escape {esc} at position {pos}</source>
            <translation>无效的转义 {esc}（位置 {pos}）</translation>
        </message>
        <message>
            <source>bad escape (end of pattern) at position {pos}</source>
            <translation>无效的转义（模式在此结束，位置 {pos}）</translation>
        </message>
        <message>
            <source>invalid group reference {group} at position {pos}</source>
            <translation>无效的分组引用 {group}（位置 {pos}）</translation>
        </message>
        <message>
            <source>unknown group name {group} at position {pos}</source>
            <translation>未知的分组名 {group}（位置 {pos}）</translation>
        </message>
        <message>
            <source>their shadow/state_dict/module entries</source>
            <translation>其中的 shadow/state_dict/module 条目</translation>
        </message>
        <message>
            <source>Lightning callbacks named EMA…</source>
            <translation>名称含 EMA 的 Lightning 回调…</translation>
        </message>
        <message>
            <source>DoRA (use_dora)</source>
            <translation>DoRA（use_dora）</translation>
        </message>
        <message>
            <source>LoRA biases (lora_bias)</source>
            <translation>LoRA 偏置（lora_bias）</translation>
        </message>
        <message>
            <source>LoRA on parameters (target_parameters)</source>
            <translation>作用于参数的 LoRA（target_parameters）</translation>
        </message>
        <message>
            <source>extra trained modules (modules_to_save)</source>
            <translation>额外训练的模块（modules_to_save）</translation>
        </message>
        <message>
            <source>trainable tokens (trainable_token_indices)</source>
            <translation>可训练词元（trainable_token_indices）</translation>
        </message>
        <message>
            <source>a prefix map looks like SRC=DST (got {spec})</source>
            <translation>前缀映射应写作 源=目标（收到的是 {spec}）</translation>
        </message>
        <message>
            <source>graft refused: {n} shape/dtype mismatches: {lines}; --skip-mismatched keeps the target's tensors for those keys, or leave them out with --exclude</source>
            <translation>嫁接被拒绝：{n} 处形状/数据类型不匹配：{lines}。勾选 --skip-mismatched 可让这些键保留目标的张量，或用 --exclude 排除它们</translation>
        </message>
        <message>
            <source>graft: no source tensor matches a target key (try a prefix map, see Edit ▸ Check compatibility with…)</source>
            <translation>嫁接：没有源张量与目标键对应（可尝试前缀映射，参见 编辑 ▸ 检查兼容性…）</translation>
        </message>
        <message>
            <source>average: {w} weight(s) for {i} input(s); give one each</source>
            <translation>平均：{i} 个输入却给了 {w} 个权重；请为每个输入各给一个</translation>
        </message>
        <message>
            <source>average: weights must not be negative</source>
            <translation>平均：权重不能为负</translation>
        </message>
        <message>
            <source>average: the weights sum to zero</source>
            <translation>平均：权重之和为零</translation>
        </message>
        <message>
            <source>average: give at least one more checkpoint to average with</source>
            <translation>平均：请至少再添加一个参与平均的检查点</translation>
        </message>
        <message>
            <source>average: the model has no floating-point tensor to average</source>
            <translation>平均：模型中没有可平均的浮点张量</translation>
        </message>
        <message>
            <source>average refused: the inputs differ in {n} place(s): {lines}</source>
            <translation>平均被拒绝：各输入之间有 {n} 处不同：{lines}</translation>
        </message>
        <message>
            <source>{what}: {value} is not a number</source>
            <translation>{what}：{value} 不是数字</translation>
        </message>
        <message>
            <source>{what}: {value} is not a finite number</source>
            <translation>{what}：{value} 不是有限的数</translation>
        </message>
        <message>
            <source>take-ema: no EMA weights found (looked for {said})</source>
            <translation>取用 EMA 权重：未找到 EMA 权重（查找过 {said}）</translation>
        </message>
        <message>
            <source>take-ema refused: the EMA at {how} does not fit the model ({n} difference(s): {lines})</source>
            <translation>取用 EMA 权重被拒绝：{how} 处的 EMA 与模型不符（{n} 处不同：{lines}）</translation>
        </message>
        <message>
            <source>resize-head: --rows must be at least 1 (and below 2**62)</source>
            <translation>调整分类头大小：--rows 至少为 1（且小于 2**62）</translation>
        </message>
        <message>
            <source>resize-head: --seed must be a non-negative 63-bit integer</source>
            <translation>调整分类头大小：--seed 必须是非负的 63 位整数</translation>
        </message>
        <message>
            <source>resize-head: --init is one of {choices} (got {got})</source>
            <translation>调整分类头大小：--init 只能是 {choices} 之一（收到的是 {got}）</translation>
        </message>
        <message>
            <source>resize-head: no tensor key matches {globs}</source>
            <translation>调整分类头大小：没有张量键匹配 {globs}</translation>
        </message>
        <message>
            <source>resize-head: no floating-point tensor with rows among the matching keys</source>
            <translation>调整分类头大小：匹配的键中没有带行的浮点张量</translation>
        </message>
        <message>
            <source>resize-head: {key} with {rows} rows would need {need}, more than this machine's memory ({memory})</source>
            <translation>调整分类头大小：{key} 有 {rows} 行时需要 {need}，超过本机内存（{memory}）</translation>
        </message>
        <message>
            <source>resize-head: kaiming init of {key} needs its layer's weight among the keys</source>
            <translation>调整分类头大小：{key} 的 kaiming 初始化需要所在层的权重也在所选键中</translation>
        </message>
        <message>
            <source>{op}: {a} and {b} would both become {new}</source>
            <translation>{op}：{a} 和 {b} 都会变成 {new}</translation>
        </message>
        <message>
            <source>add-prefix needs a non-empty prefix</source>
            <translation>添加前缀：前缀不能为空</translation>
        </message>
        <message>
            <source>invalid rename pattern or replacement: {why}</source>
            <translation>重命名的模式或替换文本无效：{why}</translation>
        </message>
        <message>
            <source>merge-lora: {name} has no adapter_config.json beside it; give the adapter's folder (adapter_config.json + adapter_model.safetensors)</source>
            <translation>合并 LoRA 适配器：{name} 旁边没有 adapter_config.json；请选择适配器所在的文件夹（adapter_config.json + adapter_model.safetensors）</translation>
        </message>
        <message>
            <source>merge-lora: the adapter config's pattern {pattern} is not a regular expression</source>
            <translation>合并 LoRA 适配器：适配器配置中的模式 {pattern} 不是正则表达式</translation>
        </message>
        <message>
            <source>merge-lora: the adapter config's pattern {pattern} is refused (a repeated group or alternation, more than two repeats, or over 256 characters)</source>
            <translation>合并 LoRA 适配器：已拒绝适配器配置中的模式 {pattern}（含被重复的分组或分支、超过两处重复，或超过 256 个字符）</translation>
        </message>
        <message>
            <source>merge-lora: the adapter config's rank_pattern / alpha_pattern is a {type}, not a mapping of patterns to values</source>
            <translation>合并 LoRA 适配器：适配器配置中的 rank_pattern / alpha_pattern 是 {type}，而不是从模式到取值的映射</translation>
        </message>
        <message>
            <source>merge-lora: a module name over {n} characters ({name}...) cannot be matched against the adapter config's patterns</source>
            <translation>合并 LoRA 适配器：超过 {n} 个字符的模块名（{name}...）无法与适配器配置中的模式匹配</translation>
        </message>
        <message>
            <source>merge-lora: a {kind} adapter, not LoRA; only LoRA adapters can be merged</source>
            <translation>合并 LoRA 适配器：这是 {kind} 适配器，不是 LoRA；只能合并 LoRA 适配器</translation>
        </message>
        <message>
            <source>merge-lora: the adapter uses {what}, which this merge does not do</source>
            <translation>合并 LoRA 适配器：适配器使用了 {what}，本合并不支持</translation>
        </message>
        <message>
            <source>merge-lora: {n} adapter tensor(s) that are not LoRA A/B weights of a Linear layer (embedding, DoRA, extra modules): {keys}</source>
            <translation>合并 LoRA 适配器：有 {n} 个适配器张量不是线性层的 LoRA A/B 权重（嵌入层、DoRA、额外模块）：{keys}</translation>
        </message>
        <message>
            <source>merge-lora: {name} holds no LoRA weights</source>
            <translation>合并 LoRA 适配器：{name} 中没有 LoRA 权重</translation>
        </message>
        <message>
            <source>merge-lora refused: {n} adapter module(s) cannot be merged: {lines}</source>
            <translation>合并 LoRA 适配器被拒绝：{n} 个适配器模块无法合并：{lines}</translation>
        </message>
        <message>
            <source>{op} needs a source checkpoint</source>
            <translation>{op}：需要一个源检查点</translation>
        </message>
        <message>
            <source>{op} needs {what}</source>
            <translation>{op}：需要{what}</translation>
        </message>
        <message>
            <source>{op}: give the {what}</source>
            <translation>{op}：请填写“{what}”</translation>
        </message>
        <message>
            <source>a cast to an unknown dtype cannot be replayed</source>
            <translation>转换到未知数据类型的操作无法重放</translation>
        </message>
        <message>
            <source>{op}: nothing to {what}: {said}</source>
            <translation>{op}：无可{what}：{said}</translation>
        </message>
        <message>
            <source>extract: two tensors would both be named {new}</source>
            <translation>提取子树：会有两个张量都叫 {new}</translation>
        </message>
        <message>
            <source>extract: no tensor key matches {globs}</source>
            <translation>提取子树：没有张量键匹配 {globs}</translation>
        </message>
        <message>
            <source>drop: nothing matches {globs}</source>
            <translation>删除：没有内容匹配 {globs}</translation>
        </message>
        <message>
            <source>cast: unsupported dtype {dtype}; use one of {choices}</source>
            <translation>转换类型：不支持数据类型 {dtype}；请使用 {choices} 之一</translation>
        </message>
    </context>
    <context>
        <name>EditReport</name>
        <message>
            <source>model keys</source>
            <translation>模型键</translation>
        </message>
        <message>
            <source>tensors</source>
            <translation>张量</translation>
        </message>
        <message>
            <source>model tensors</source>
            <translation>模型张量</translation>
        </message>
        <message>
            <source>selected tensors</source>
            <translation>所选张量</translation>
        </message>
        <message>
            <source>target tensors</source>
            <translation>目标张量</translation>
        </message>
        <message>
            <source>source tensors</source>
            <translation>源张量</translation>
        </message>
        <message>
            <source>renamed</source>
            <translation>已重命名</translation>
        </message>
        <message>
            <source>unchanged</source>
            <translation>未变</translation>
        </message>
        <message>
            <source>kept</source>
            <translation>保留</translation>
        </message>
        <message>
            <source>left out</source>
            <translation>略去</translation>
        </message>
        <message>
            <source>removed</source>
            <translation>已移除</translation>
        </message>
        <message>
            <source>dropped</source>
            <translation>已删除</translation>
        </message>
        <message>
            <source>cast</source>
            <translation>已转换</translation>
        </message>
        <message>
            <source>already in that dtype</source>
            <translation>已是该数据类型</translation>
        </message>
        <message>
            <source>not floating point</source>
            <translation>非浮点</translation>
        </message>
        <message>
            <source>averaged</source>
            <translation>已平均</translation>
        </message>
        <message>
            <source>from the last checkpoint</source>
            <translation>取自最后一个检查点</translation>
        </message>
        <message>
            <source>merged</source>
            <translation>已合并</translation>
        </message>
        <message>
            <source>from the EMA</source>
            <translation>取自 EMA</translation>
        </message>
        <message>
            <source>from the model</source>
            <translation>取自模型</translation>
        </message>
        <message>
            <source>resized</source>
            <translation>已调整大小</translation>
        </message>
        <message>
            <source>left as they are</source>
            <translation>保持不变</translation>
        </message>
        <message>
            <source>taken</source>
            <translation>已采用</translation>
        </message>
        <message>
            <source>kept (shape/dtype differs in the source)</source>
            <translation>保留（源中形状或数据类型不同）</translation>
        </message>
        <message>
            <source>kept (excluded)</source>
            <translation>保留（已排除）</translation>
        </message>
        <message>
            <source>kept (not included)</source>
            <translation>保留（未包含）</translation>
        </message>
        <message>
            <source>kept (not in the source)</source>
            <translation>保留（源中没有）</translation>
        </message>
        <message>
            <source>not taken (shape/dtype differs)</source>
            <translation>未采用（形状或数据类型不同）</translation>
        </message>
        <message>
            <source>excluded</source>
            <translation>已排除</translation>
        </message>
        <message>
            <source>not included</source>
            <translation>未包含</translation>
        </message>
        <message>
            <source>with no place in the target</source>
            <translation>在目标中无对应位置</translation>
        </message>
        <message>
            <source>on a target key already taken</source>
            <translation>对应的目标键已被占用</translation>
        </message>
        <message>
            <source>{part} {n}</source>
            <translation>{part} {n} 个</translation>
        </message>
        <message>
            <source>{group} (%Ln): {parts}</source>
            <translation>{group}（%Ln 个）：{parts}</translation>
        </message>
        <message>
            <source>; </source>
            <translation>；</translation>
        </message>
        <message>
            <source>{edit}: {counts}</source>
            <translation>{edit}：{counts}</translation>
        </message>
    </context>
    <context>
        <name>Editor</name>
        <message>
            <source>PyTorch checkpoint (*.pth *.pt);;safetensors (*.safetensors);;All files (*)</source>
            <translation>PyTorch 检查点 (*.pth *.pt);;safetensors (*.safetensors);;所有文件 (*)</translation>
        </message>
        <message>
            <source>PyTorch checkpoints (*.pth *.pt *.bin *.ckpt *.safetensors *.tar);;All files (*)</source>
            <translation>PyTorch 检查点 (*.pth *.pt *.bin *.ckpt *.safetensors *.tar);;所有文件 (*)</translation>
        </message>
        <message>
            <source>&amp;Save</source>
            <translation>保存(&amp;S)</translation>
        </message>
        <message>
            <source>Save &amp;As…</source>
            <translation>另存为(&amp;A)…</translation>
        </message>
        <message>
            <source>Export &amp;recipe…</source>
            <translation>导出配方脚本(&amp;R)…</translation>
        </message>
        <message>
            <source>Check compatibility with…</source>
            <translation>检查兼容性…</translation>
        </message>
        <message>
            <source>No recipe: {why}</source>
            <translation>无法生成配方脚本：{why}</translation>
        </message>
        <message>
            <source>A torch-only script that replays the edits</source>
            <translation>只依赖 torch、可重放这些编辑的脚本</translation>
        </message>
        <message>
            <source>&amp;Undo {edit}</source>
            <translation>撤销 {edit}(&amp;U)</translation>
        </message>
        <message>
            <source>&amp;Undo</source>
            <translation>撤销(&amp;U)</translation>
        </message>
        <message>
            <source>&amp;Redo {edit}</source>
            <translation>重做 {edit}(&amp;R)</translation>
        </message>
        <message>
            <source>&amp;Redo</source>
            <translation>重做(&amp;R)</translation>
        </message>
        <message>
            <source>Undo {what}</source>
            <translation>撤销 {what}</translation>
        </message>
        <message>
            <source>Redo {what}</source>
            <translation>重做 {what}</translation>
        </message>
        <message>
            <source>Working copy: %Ln edit(s), not saved</source>
            <translation>工作副本：%Ln 处编辑，未保存</translation>
        </message>
        <message>
            <source>Working copy: %Ln edit(s), saved</source>
            <translation>工作副本：%Ln 处编辑，已保存</translation>
        </message>
        <message>
            <source>Unsaved edits</source>
            <translation>未保存的编辑</translation>
        </message>
        <message>
            <source>{name} has edits that are not saved.</source>
            <translation>{name} 有尚未保存的编辑。</translation>
        </message>
        <message>
            <source>The working copy has edits that are not saved.</source>
            <translation>工作副本有尚未保存的编辑。</translation>
        </message>
        <message>
            <source>none found</source>
            <translation>未找到</translation>
        </message>
        <message>
            <source>detected: {prefixes}</source>
            <translation>检测到：{prefixes}</translation>
        </message>
        <message>
            <source>Opening {name}</source>
            <translation>正在打开 {name}</translation>
        </message>
        <message>
            <source>From {name}: {note}</source>
            <translation>来自 {name}：{note}</translation>
        </message>
        <message>
            <source>Graft tensors from</source>
            <translation>嫁接张量的来源</translation>
        </message>
        <message>
            <source>Choose the LoRA adapter folder</source>
            <translation>选择 LoRA 适配器文件夹</translation>
        </message>
        <message>
            <source>Averaged with (in order, after this one)</source>
            <translation>参与平均的检查点（按顺序，排在此检查点之后）</translation>
        </message>
        <message>
            <source>Add a checkpoint to average</source>
            <translation>添加要平均的检查点</translation>
        </message>
        <message>
            <source>Check compatibility with</source>
            <translation>检查与之兼容性的检查点</translation>
        </message>
        <message>
            <source>Save checkpoint as</source>
            <translation>检查点另存为</translation>
        </message>
        <message>
            <source>Saving {name}</source>
            <translation>正在保存 {name}</translation>
        </message>
        <message>
            <source>Saved {name} (%Ln tensor(s), verified)</source>
            <translation>已保存 {name}（%Ln 个张量，已校验）</translation>
        </message>
        <message>
            <source>Saved {name} (%Ln tensor(s), NOT verified)</source>
            <translation>已保存 {name}（%Ln 个张量，未通过校验）</translation>
        </message>
        <message>
            <source>Export recipe</source>
            <translation>导出配方脚本</translation>
        </message>
        <message>
            <source>Python (*.py)</source>
            <translation>Python 脚本 (*.py)</translation>
        </message>
        <message>
            <source>No recipe written: {why}</source>
            <translation>未写出配方脚本：{why}</translation>
        </message>
        <message>
            <source>Recipe written to {path}</source>
            <translation>配方脚本已写入 {path}</translation>
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
        <name>MainWindow</name>
        <message>
            <source>Filter: key, glob or regex, dtype, shape (Ctrl+F)   e.g.  *.bias  se.*bias  bfloat16  3x3</source>
            <translation>筛选：键、通配模式或正则、数据类型、形状 (Ctrl+F)   例如  *.bias  se.*bias  bfloat16  3x3</translation>
        </message>
        <message>
            <source>Clear the filter (in the filter)</source>
            <translation>清除筛选（在筛选框中）</translation>
        </message>
        <message>
            <source>Open a checkpoint: File ▸ Open, or drop a file here.</source>
            <translation>打开检查点：文件 ▸ 打开，或把文件拖放到这里。</translation>
        </message>
        <message>
            <source>Inspector</source>
            <translation>检查器</translation>
        </message>
        <message>
            <source>Metadata</source>
            <translation>元数据</translation>
        </message>
        <message>
            <source>Health</source>
            <translation>健康检查</translation>
        </message>
        <message>
            <source>Largest</source>
            <translation>最大张量</translation>
        </message>
        <message>
            <source>Auto</source>
            <translation>自动</translation>
        </message>
        <message>
            <source>CPU</source>
            <translation>CPU</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <source>&amp;Open…</source>
            <translation>打开(&amp;O)…</translation>
        </message>
        <message>
            <source>Open &amp;Folder… (sharded, PEFT)</source>
            <translation>打开文件夹(&amp;F)…（分片、PEFT）</translation>
        </message>
        <message>
            <source>Open &amp;URL… (S3, HTTP, Hugging Face)</source>
            <translation>打开 URL(&amp;U)…（S3、HTTP、Hugging Face）</translation>
        </message>
        <message>
            <source>Open Ru&amp;n… (a folder of checkpoints)</source>
            <translation>打开训练运行(&amp;N)…（检查点文件夹）</translation>
        </message>
        <message>
            <source>Open &amp;Recent</source>
            <translation>最近打开(&amp;R)</translation>
        </message>
        <message>
            <source>&amp;Reload</source>
            <translation>重新加载(&amp;R)</translation>
        </message>
        <message>
            <source>New &amp;Tab</source>
            <translation>新建标签页(&amp;T)</translation>
        </message>
        <message>
            <source>Export &amp;statistics to CSV…</source>
            <translation>导出统计为 CSV(&amp;S)…</translation>
        </message>
        <message>
            <source>&amp;Close Tab</source>
            <translation>关闭标签页(&amp;C)</translation>
        </message>
        <message>
            <source>&amp;Close</source>
            <translation>关闭(&amp;C)</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>退出(&amp;Q)</translation>
        </message>
        <message>
            <source>&amp;Edit</source>
            <translation>编辑(&amp;E)</translation>
        </message>
        <message>
            <source>&amp;View</source>
            <translation>视图(&amp;V)</translation>
        </message>
        <message>
            <source>&amp;Filter</source>
            <translation>筛选(&amp;F)</translation>
        </message>
        <message>
            <source>&amp;Expand all</source>
            <translation>全部展开(&amp;E)</translation>
        </message>
        <message>
            <source>&amp;Collapse all</source>
            <translation>全部折叠(&amp;C)</translation>
        </message>
        <message>
            <source>Show only &amp;flagged</source>
            <translation>只显示有问题的(&amp;F)</translation>
        </message>
        <message>
            <source>&amp;Largest tensors</source>
            <translation>最大张量(&amp;L)</translation>
        </message>
        <message>
            <source>&amp;Theme</source>
            <translation>主题(&amp;T)</translation>
        </message>
        <message>
            <source>&amp;Language</source>
            <translation>语言(&amp;L)</translation>
        </message>
        <message>
            <source>&amp;Help</source>
            <translation>帮助(&amp;H)</translation>
        </message>
        <message>
            <source>&amp;Keyboard shortcuts</source>
            <translation>键盘快捷键(&amp;K)</translation>
        </message>
        <message>
            <source>&amp;About ckptviewer</source>
            <translation>关于 ckptviewer(&amp;A)</translation>
        </message>
        <message>
            <source>Main toolbar</source>
            <translation>主工具栏</translation>
        </message>
        <message>
            <source> Device: </source>
            <translation> 设备：</translation>
        </message>
        <message>
            <source>Open checkpoint</source>
            <translation>打开检查点</translation>
        </message>
        <message>
            <source>Open checkpoint folder</source>
            <translation>打开检查点文件夹</translation>
        </message>
        <message>
            <source>Open URL</source>
            <translation>打开 URL</translation>
        </message>
        <message>
            <source>A checkpoint file or folder on object storage or a web server, e.g.
s3://bucket/run/model.safetensors   https://host/model.pth   hf://org/repo
Only the parts shown are downloaded; credentials come from your usual configuration.</source>
            <translation>对象存储或 Web 服务器上的检查点文件或文件夹，例如
s3://bucket/run/model.safetensors   https://host/model.pth   hf://org/repo
只下载显示所需的部分；凭据取自你平常的配置。</translation>
        </message>
        <message>
            <source>{text}: not a URL (scheme://…); use File ▸ Open for local files</source>
            <translation>{text}：不是 URL（scheme://…）；本地文件请用 文件 ▸ 打开</translation>
        </message>
        <message>
            <source>Open run: a folder of checkpoints</source>
            <translation>打开训练运行：检查点文件夹</translation>
        </message>
        <message>
            <source>Listing the run in {name}</source>
            <translation>正在列出 {name} 中的训练运行</translation>
        </message>
        <message>
            <source>Opening {name}…</source>
            <translation>正在打开 {name}…</translation>
        </message>
        <message>
            <source>Could not open the file</source>
            <translation>无法打开文件</translation>
        </message>
        <message>
            <source>Opening {name}</source>
            <translation>正在打开 {name}</translation>
        </message>
        <message>
            <source>… and %Ln more (listed in the Metadata tab)</source>
            <translation>… 另有 %Ln 个（列在“元数据”标签页中）</translation>
        </message>
        <message>
            <source>Loading {name} fully will call:
{names}

Only do this for a file you made yourself or got from a source you trust.</source>
            <translation>完整加载 {name} 将调用：
{names}

只对你自己生成或来自可信来源的文件这样做。</translation>
        </message>
        <message>
            <source>Trust this file?</source>
            <translation>信任此文件？</translation>
        </message>
        <message>
            <source>Trusting runs code from this file with your permissions.</source>
            <translation>信任会以你的权限运行此文件中的代码。</translation>
        </message>
        <message>
            <source>Trust and reload</source>
            <translation>信任并重新加载</translation>
        </message>
        <message>
            <source>Scanning</source>
            <translation>正在检查</translation>
        </message>
        <message>
            <source>Whole checkpoint</source>
            <translation>整个检查点</translation>
        </message>
        <message>
            <source>Statistics of {key}…</source>
            <translation>{key} 的统计…</translation>
        </message>
        <message>
            <source>Statistics of {key}</source>
            <translation>{key} 的统计</translation>
        </message>
        <message>
            <source>Heatmap</source>
            <translation>热力图</translation>
        </message>
        <message>
            <source>Values</source>
            <translation>数值</translation>
        </message>
        <message>
            <source>No matches for {text} (text, glob like *.bias, or regex like se.*bias)</source>
            <translation>没有与 {text} 匹配的项（可用文本、*.bias 这样的通配模式或 se.*bias 这样的正则）</translation>
        </message>
        <message>
            <source>Copy key</source>
            <translation>复制键</translation>
        </message>
        <message>
            <source>Copy as sd["…"]</source>
            <translation>复制为 sd["…"]</translation>
        </message>
        <message>
            <source>Copy shape</source>
            <translation>复制形状</translation>
        </message>
        <message>
            <source>Export tensor to .npy…</source>
            <translation>导出张量为 .npy…</translation>
        </message>
        <message>
            <source>Expand all below</source>
            <translation>展开下方全部</translation>
        </message>
        <message>
            <source>ckptviewer {version}
A safe, lazy inspector for PyTorch checkpoints.</source>
            <translation>ckptviewer {version}
安全、按需读取的 PyTorch 检查点查看器。</translation>
        </message>
        <message>
            <source>About ckptviewer</source>
            <translation>关于 ckptviewer</translation>
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
            <source>Globals outside torch's weights-only allowlist</source>
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
            <source>Every model key starts with {prefix} (a training wrapper): a plain model's load_state_dict expects the keys without it.</source>
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
        <name>RunFinding</name>
        <message>
            <source>Its weights are bit-identical in every checkpoint while other layers train: the layer is frozen (requires_grad=False, left out of the optimizer, or its learning rate is 0). Fine when intended (fine-tuning a head, a frozen backbone); otherwise check requires_grad and the optimizer's param groups.</source>
            <translation>其他层在训练，而它的权重在每个检查点中都逐位相同：该层被冻结了（requires_grad=False、未加入优化器，或学习率为 0）。若是有意为之（只微调分类头、冻结主干）则没有问题；否则请检查 requires_grad 和优化器的参数组。</translation>
        </message>
        <message>
            <source>The layer trained, then stopped changing while other layers went on: its gradients became exactly zero (dead ReLUs feeding it, a detached branch, an unused output) or it was frozen mid-run. Check whether that was intended; inspect its gradients and inputs around this step.</source>
            <translation>该层训练过，之后在其他层继续训练时停止了变化：它的梯度变成了精确的零（输入来自失活的 ReLU、分支被 detach、输出未被使用），或在训练中途被冻结。请确认这是否有意为之；检查此步前后它的梯度和输入。</translation>
        </message>
        <message>
            <source>Its weights went to (almost) zero after being larger: weight decay or a collapsed layer with no gradient left. Its outputs no longer carry information; look at this layer's learning rate, weight decay and gradient flow before this checkpoint.</source>
            <translation>它的权重在较大之后降到了（几乎）为零：权重衰减所致，或该层已坍缩、不再有梯度。它的输出不再携带信息；请检查此检查点之前该层的学习率、权重衰减和梯度流。</translation>
        </message>
        <message>
            <source>Its update grew far beyond its usual size: the start of a divergence (too high a learning rate, a bad batch, loss scaling). Checkpoints from here on may be damaged; resume from an earlier one with a lower learning rate or gradient clipping.</source>
            <translation>它的更新量远超平常：发散的开始（学习率过高、坏批次、损失缩放）。从这里开始的检查点可能已损坏；请从更早的检查点恢复，并降低学习率或使用梯度裁剪。</translation>
        </message>
        <message>
            <source>NaN or Inf values appear here for the first time: everything computed from them is NaN too, and training usually spreads them to every layer within a step. Resume from the checkpoint before this one; look for a division by zero, a log of 0, an overflow in float16, or too high a learning rate.</source>
            <translation>NaN 或 Inf 值在这里首次出现：由它们算出的一切也都是 NaN，训练通常会在一步之内把它们扩散到每一层。请从此前的检查点恢复；查找除以零、对 0 取对数、float16 溢出或学习率过高。</translation>
        </message>
        <message>
            <source>NaN/Inf values reached these layers after first appearing elsewhere: training on from a NaN weight (a NaN loss, NaN gradients) poisons every layer the optimizer updates. The cause is where they first appeared (the other NaN/Inf finding), not here.</source>
            <translation>NaN/Inf 值先在别处出现，随后到达这些层：从含 NaN 的权重继续训练（NaN 损失、NaN 梯度）会污染优化器更新的每一层。原因在它们首次出现的地方（另一条 NaN/Inf 问题），而不在这里。</translation>
        </message>
        <message>
            <source>Every model tensor is bit-identical to the checkpoint before: no training happened between the two saves (a copy such as last.ckpt, a job that re-saved after a restart, or every step skipped, as mixed precision does on overflow). Harmless as a copy; if steps were meant to run, they changed nothing.</source>
            <translation>每个模型张量都与前一个检查点逐位相同：两次保存之间没有发生训练（例如 last.ckpt 这样的副本、重启后重新保存的任务，或每一步都被跳过，混合精度在溢出时会这样）。作为副本无害；若本应执行训练步，则它们什么也没改变。</translation>
        </message>
    </context>
    <context>
        <name>RunView</name>
        <message>
            <source>Relative update ‖Wₜ−Wₜ₋₁‖ / ‖Wₜ₋₁‖</source>
            <translation>相对更新量 ‖Wₜ−Wₜ₋₁‖ / ‖Wₜ₋₁‖</translation>
        </message>
        <message>
            <source>relative update</source>
            <translation>相对更新量</translation>
        </message>
        <message>
            <source>Weight norm ‖Wₜ‖</source>
            <translation>权重范数 ‖Wₜ‖</translation>
        </message>
        <message>
            <source>weight norm</source>
            <translation>权重范数</translation>
        </message>
        <message>
            <source>Change since first ‖Wₜ−W₀‖ / ‖W₀‖</source>
            <translation>相对首个的变化 ‖Wₜ−W₀‖ / ‖W₀‖</translation>
        </message>
        <message>
            <source>change since first</source>
            <translation>相对首个的变化</translation>
        </message>
        <message>
            <source>Adam update / weight ratio</source>
            <translation>Adam 更新量与权重之比</translation>
        </message>
        <message>
            <source>Adam update ratio</source>
            <translation>Adam 更新比</translation>
        </message>
        <message>
            <source>NaN / Inf count</source>
            <translation>NaN / Inf 个数</translation>
        </message>
        <message>
            <source>NaN + Inf elements</source>
            <translation>NaN + Inf 元素数</translation>
        </message>
        <message>
            <source>exactly 0</source>
            <translation>恰为 0</translation>
        </message>
        <message>
            <source>NaN / Inf</source>
            <translation>NaN / Inf</translation>
        </message>
        <message>
            <source>no value (absent, no checkpoint before, no Adam state)</source>
            <translation>无值（不存在、之前无检查点、无 Adam 状态）</translation>
        </message>
        <message>
            <source>step {n}</source>
            <translation>步数 {n}</translation>
        </message>
        <message>
            <source>epoch {n}</source>
            <translation>轮次 {n}</translation>
        </message>
        <message>
            <source>no value</source>
            <translation>无值</translation>
        </message>
        <message>
            <source>{series}: {value}</source>
            <translation>{series}：{value}</translation>
        </message>
        <message>
            <source>%Ln NaN / Inf element(s)</source>
            <translation>%Ln 个 NaN / Inf 元素</translation>
        </message>
        <message>
            <source>Click: compare with the checkpoint before</source>
            <translation>点击：与前一个检查点对比</translation>
        </message>
        <message>
            <source>Checkpoint</source>
            <translation>检查点</translation>
        </message>
        <message>
            <source>Format</source>
            <translation>格式</translation>
        </message>
        <message>
            <source>Size</source>
            <translation>大小</translation>
        </message>
        <message>
            <source>Step</source>
            <translation>步数</translation>
        </message>
        <message>
            <source>Epoch</source>
            <translation>轮次</translation>
        </message>
        <message>
            <source>LR</source>
            <translation>学习率</translation>
        </message>
        <message>
            <source>stored step/epoch</source>
            <translation>保存的步数/轮次</translation>
        </message>
        <message>
            <source>file name</source>
            <translation>文件名</translation>
        </message>
        <message>
            <source>modification time</source>
            <translation>修改时间</translation>
        </message>
        <message>
            <source>{path}
ordered by {order}</source>
            <translation>{path}
排序依据：{order}</translation>
        </message>
        <message>
            <source>Nothing found: no frozen, dead or exploding layers, no NaN/Inf, no duplicates.</source>
            <translation>未发现问题：没有冻结、失活或爆炸的层，没有 NaN/Inf，没有重复。</translation>
        </message>
        <message>
            <source>Filter layers (text)</source>
            <translation>筛选层（文本）</translation>
        </message>
        <message>
            <source>Log scale</source>
            <translation>对数刻度</translation>
        </message>
        <message>
            <source>Selected layers</source>
            <translation>所选的层</translation>
        </message>
        <message>
            <source>step</source>
            <translation>步数</translation>
        </message>
        <message>
            <source>checkpoint</source>
            <translation>检查点</translation>
        </message>
        <message>
            <source>click heatmap rows (Ctrl adds) or pick in Layers</source>
            <translation>点击热力图的行（按住 Ctrl 追加），或在“层”中选择</translation>
        </message>
        <message>
            <source>{layer} (0 throughout)</source>
            <translation>{layer}（始终为 0）</translation>
        </message>
        <message>
            <source>{layer} (no value to draw)</source>
            <translation>{layer}（没有可绘制的值）</translation>
        </message>
        <message>
            <source>%Ln layer(s)</source>
            <translation>%Ln 个层</translation>
        </message>
        <message>
            <source>{layers} (%Ln more selected, not drawn)</source>
            <translation>{layers}（另选 %Ln 个，未绘制）</translation>
        </message>
        <message>
            <source>{run} — run — ckptviewer</source>
            <translation>{run} — 训练运行 — ckptviewer</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <source>&amp;Analyse again</source>
            <translation>重新分析(&amp;A)</translation>
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
            <source>The figure each heatmap cell and line shows (colours on a log scale)</source>
            <translation>热力图每格和折线显示的指标（颜色按对数刻度）</translation>
        </message>
        <message>
            <source>&amp;Show</source>
            <translation>显示(&amp;S)</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>Layers</source>
            <translation>层</translation>
        </message>
        <message>
            <source>Findings</source>
            <translation>问题</translation>
        </message>
        <message>
            <source>Findings (%Ln)</source>
            <translation>问题（%Ln）</translation>
        </message>
        <message>
            <source>Analysing %Ln checkpoint(s)…</source>
            <translation>正在分析 %Ln 个检查点…</translation>
        </message>
        <message>
            <source>No model weights found in these checkpoints: nothing to draw.</source>
            <translation>这些检查点中没有找到模型权重：没有可绘制的内容。</translation>
        </message>
        <message>
            <source>Analysing the run</source>
            <translation>正在分析训练运行</translation>
        </message>
        <message>
            <source>Analysis cancelled. File ▸ Analyse again (F5) starts it again.</source>
            <translation>分析已取消。文件 ▸ 重新分析 (F5) 可再次开始。</translation>
        </message>
        <message>
            <source>Analysis cancelled</source>
            <translation>分析已取消</translation>
        </message>
        <message>
            <source>Cannot analyse the run: {why}</source>
            <translation>无法分析训练运行：{why}</translation>
        </message>
        <message>
            <source>%Ln checkpoint(s)</source>
            <translation>%Ln 个检查点</translation>
        </message>
        <message>
            <source>ordered by {order}</source>
            <translation>按{order}排序</translation>
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
            <source>no findings</source>
            <translation>未发现问题</translation>
        </message>
        <message>
            <source>%Ln file(s) skipped (not checkpoints)</source>
            <translation>跳过 %Ln 个文件（不是检查点）</translation>
        </message>
        <message>
            <source>&lt;b&gt;Run&lt;/b&gt; {name}</source>
            <translation>&lt;b&gt;训练运行&lt;/b&gt; {name}</translation>
        </message>
        <message>
            <source>Skipped {files}</source>
            <translation>已跳过 {files}</translation>
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
            <source>running statistics at mean 0 / variance 1 while the layer's weights were trained</source>
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
            <source>A NaN in a weight spreads through every layer after it: the model's outputs become NaN.</source>
            <translation>权重中的一个 NaN 会传播到其后的每一层：模型输出将变为 NaN。</translation>
        </message>
        <message>
            <source>An infinite weight turns the activations it touches into Inf or NaN.</source>
            <translation>无穷大的权重会使其涉及的激活值变为 Inf 或 NaN。</translation>
        </message>
        <message>
            <source>float16 cannot hold magnitudes beyond 65504: these values became Inf or were clipped to ±65504 in the conversion, and the layer's outputs overflow.</source>
            <translation>float16 无法表示绝对值超过 65504 的数：这些值在转换中变成了 Inf 或被截断为 ±65504，该层的输出会溢出。</translation>
        </message>
        <message>
            <source>Convert the float32 original to bfloat16 (float32's range), or keep this layer in float32.</source>
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
            <source>Magnitudes orders above every sibling layer's are what random bytes read as numbers look like (a corrupted shard or download) or a layer that blew up: the outputs will be garbage.</source>
            <translation>比所有同类层高出几个数量级的数值，通常是把随机字节当作数字读出的结果（分片或下载已损坏），或是该层数值爆炸：输出将是无意义的。</translation>
        </message>
        <message>
            <source>Re-download or re-copy the file and compare checksums; if the file is intact, use an earlier checkpoint.</source>
            <translation>重新下载或复制该文件并比对校验和；如果文件完好，请改用更早的检查点。</translation>
        </message>
        <message>
            <source>The tensor's data cannot be read, so loading the file fails or loads something else (an error for model weights, a warning for other tensors).</source>
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
            <source>This BatchNorm layer's weights were trained but its running statistics are still mean 0 / variance 1: in eval mode it normalises with the wrong statistics.</source>
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
            <source>The tensor's logical size dwarfs the data stored for it, so it was not checked and may hide anything.</source>
            <translation>该张量的逻辑大小远超其实际存储的数据，因此未被检查，其中可能隐藏任何内容。</translation>
        </message>
        <message>
            <source>Scan with --force-compute if you trust the file.</source>
            <translation>如果信任此文件，请使用 --force-compute 进行检查。</translation>
        </message>
        <message>
            <source>A model at its initial values gives a random model's outputs: fine at the start of training, not in a file you ship.</source>
            <translation>处于初始值的模型只会给出随机模型的输出：训练开始时没问题，但不应出现在要发布的文件中。</translation>
        </message>
        <message>
            <source>Make sure this is the file you meant (not step 0).</source>
            <translation>请确认这是你想要的文件（而不是第 0 步的）。</translation>
        </message>
        <message>
            <source>A step counter at 0 means the optimizer's moment estimates were never updated: resuming behaves like a fresh optimizer.</source>
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
